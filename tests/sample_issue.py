"""A fixed, realistic issue built from model objects (no database), for rendering tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsletter.domain.model import Article, Issue, IssueItem, IssueState

STORIES = [
    (
        "maddyness",
        "À la une",
        "Une start-up lilloise lève 12 millions d’euros pour décarboner la logistique",
        "La jeune pousse nordiste veut électrifier le dernier kilomètre : « nous livrons "
        "déjà 40 villes », affirme sa fondatrice. Le tour de table est mené par un fonds "
        "régional, avec la participation de business angels du secteur.",
    ),
    (
        "maddyness",
        "À la une",
        "French Tech : le programme Next40 accueille dix nouveaux membres",
        "Santé, énergie et IA dominent la nouvelle promotion, qui pèse plus de 3 milliards "
        "d’euros levés. Qui sont les nouveaux venus ?",
    ),
    (
        "frenchweb",
        "Tech & financement",
        "L’IA générative au service des PME : trois outils à tester cette semaine",
        "Des assistants de rédaction aux agents de support client, tour d’horizon d’outils "
        "conçus en France ; aucun ne demande de compétences techniques.",
    ),
    (
        "siecle-digital",
        "Tech & financement",
        "Fintech : une néobanque pour les indépendants obtient son agrément",
        "L’établissement pourra proposer des comptes professionnels et des cartes de paiement "
        "dès le printemps. Une première pour une équipe de huit personnes !",
    ),
    (
        "les-echos-start",
        "Entrepreneuriat",
        "Recrutement : les start-up misent sur la semaine de quatre jours",
        "Une étude menée auprès de 300 dirigeants montre que la mesure aide à attirer des "
        "profils rares, sans baisse de productivité mesurable.",
    ),
]

# The image sizes the feeds declare, by article: landscape (the usual og:image), square,
# none (no image), portrait, and not declared at all.
IMAGE_SIZES: list[tuple[int, int] | None] = [(1200, 630), (600, 600), None, (800, 1200), None]

INTRO = (
    "Bonjour à toutes et à tous !\n\n"
    "Cette semaine, **la logistique verte** lève des fonds et le "
    "[Next40](https://lafrenchtech.gouv.fr/next40) s’agrandit. Bonne lecture !"
)


def article(index: int, feed: str, title: str, summary: str, image: bool = True) -> Article:
    published = datetime(2026, 11, 24, 7, 30, tzinfo=UTC) - timedelta(hours=19 * index)
    slug = f"article-{index + 1}"
    size = IMAGE_SIZES[index % len(IMAGE_SIZES)] if image else None
    return Article(
        id=index + 1,
        feed_name=feed,
        guid=f"guid-{index + 1}",
        url=f"https://www.{feed}.example.fr/2026/11/{slug}/",
        title=title,
        summary=summary,
        content_html=f"<p>{summary}</p>",
        image_url=f"https://img.{feed}.example.fr/{slug}.jpg" if image else None,
        author="Rédaction",
        published_at=published,
        collected_at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        image_width=size[0] if size else None,
        image_height=size[1] if size else None,
    )


def sample_issue(count: int = 5, intro: str = INTRO) -> Issue:
    """Issue n°42 with `count` articles cycling through STORIES, grouped by section."""
    items = []
    for index in range(count):
        feed, section, title, summary = STORIES[index % len(STORIES)]
        if index >= len(STORIES):
            title = f"{title} ({index // len(STORIES) + 1})"
        items.append(
            IssueItem(
                article=article(index, feed, title, summary, image=index != 2),
                position=index,
                section=section,
            )
        )
    items.sort(key=lambda item: (_order(item.section), item.position))
    items = [
        IssueItem(article=i.article, position=n, section=i.section) for n, i in enumerate(items)
    ]
    return Issue(
        id=7,
        number=42,
        state=IssueState.DRAFT,
        subject="{name} n°{number} : la logistique verte lève 12 M€",
        preheader="Une start-up lilloise lève 12 millions d’euros, le Next40 s’agrandit, et plus.",
        intro=intro,
        created_at=datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        send_at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
        items=tuple(items),
    )


def _order(section: str | None) -> int:
    sections = [story[1] for story in STORIES]
    return sections.index(section) if section in sections else len(sections)
