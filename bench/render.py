"""Benchmark: one premailer render of an issue vs personalising it for one recipient.

The renderer runs Jinja2 + premailer once per issue; each recipient's copy is only a
placeholder substitution and a MIME message. Targets, measured in the same run:
  - personalising one copy is at least 100x cheaper than rendering the issue;
  - the per-copy cost that matters, a full copy: personalised, its message bytes and its header
    check (`CopyTemplate.copy`, what the file and SMTP providers do for every reader), is at
    least 100x cheaper than rendering.
The email package's copy (`copy_bytes`, the reference the fast copies equal byte for byte) and
the template's one-off cost per message are printed beside them.

    .venv/bin/python bench/render.py [--articles 12] [--recipients 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from targets import Targets  # noqa: E402

from newsletter.deliver import sender_of  # noqa: E402
from newsletter.deliver.copies import CopyTemplate  # noqa: E402
from newsletter.deliver.message import copy_bytes  # noqa: E402
from newsletter.domain.delivery import Recipient, RenderedMessage  # noqa: E402
from newsletter.domain.model import Article, Issue, IssueItem, IssueState  # noqa: E402
from newsletter.render.personalise import personalise  # noqa: E402
from newsletter.render.renderer import Renderer  # noqa: E402
from newsletter.runtime import config as config_module  # noqa: E402

# The targets, in one place: how many times cheaper than one render each per-copy step must be.
MIN_RATIO_PERSONALISE = 100
MIN_RATIO_COPY = 100
SECTIONS = ("À la une", "Tech & financement", "Entrepreneuriat")
FEEDS = ("maddyness", "frenchweb", "siecle-digital", "les-echos-start")


def realistic_issue(count: int) -> Issue:
    """An issue like a real week: French titles, ~60-word summaries, images, three sections."""
    start = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    items = []
    for n in range(count):
        feed = FEEDS[n % len(FEEDS)]
        article = Article(
            id=n + 1,
            feed_name=feed,
            guid=f"bench-{n}",
            url=f"https://www.{feed}.example.fr/2026/11/{n}/une-start-up-leve-des-fonds/",
            title=f"Une start-up lyonnaise lève {n + 3} millions d’euros pour l’IA industrielle",
            summary=(
                "La jeune pousse, fondée en 2021, veut équiper les usines françaises d’outils "
                "de maintenance prédictive : « nous avons doublé notre chiffre d’affaires », "
                "explique son cofondateur. Le tour de table réunit un fonds régional et des "
                "business angels ; l’entreprise prévoit de recruter 40 personnes d’ici à 2027 "
                "et d’ouvrir un bureau à Munich. Une levée qui confirme l’intérêt des "
                "investisseurs pour la deeptech !"
            ),
            content_html="<p>…</p>",
            image_url=f"https://img.{feed}.example.fr/2026/11/{n}.jpg",
            author="Rédaction",
            published_at=start - timedelta(hours=9 * n),
            collected_at=start,
        )
        items.append(IssueItem(article=article, position=n, section=SECTIONS[n * 3 // count]))
    return Issue(
        id=42,
        number=42,
        state=IssueState.DRAFT,
        subject="MaddyNews n°42 : l’IA industrielle lève des fonds",
        preheader="Douze levées de fonds, un nouveau Next40 et les outils de la semaine.",
        intro="Bonjour à toutes et à tous !\n\nCette semaine, **l’IA industrielle** "
        "attire les investisseurs. [Tous nos articles](https://www.maddyness.com/).",
        created_at=start,
        send_at=start,
        items=tuple(items),
    )


def per_call(function: Callable[[int], object], calls: int, rounds: int = 5) -> float:
    """Median seconds per call over `rounds` rounds of `calls` calls."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for n in range(calls):
            function(n)
        timings.append((time.perf_counter() - started) / calls)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=12)
    parser.add_argument("--recipients", type=int, default=2000)
    args = parser.parse_args()

    config = config_module.load(ROOT / "config.toml", {})
    issue = realistic_issue(args.articles)
    renderer = Renderer(config)
    rendered: RenderedMessage = renderer.render_issue(issue)  # warm-up (imports, caches)

    recipients = [
        Recipient(
            n,
            n,
            f"lecteur{n}@example.org",
            f"Lectrice {n}",
            f"{config.settings.newsletter.base_url}/unsubscribe/{n:08d}.signature",
        )
        for n in range(args.recipients)
    ]

    render_s = per_call(lambda _n: renderer.render_issue(issue), calls=3)
    personalise_s = per_call(lambda n: personalise(rendered, recipients[n]), args.recipients)

    sender = sender_of(config)
    now = datetime.now(UTC)
    template_s = per_call(lambda _n: CopyTemplate(rendered, sender), calls=20)
    template = CopyTemplate(rendered, sender)
    # What the file and SMTP providers do per copy: personalise, the message bytes, the check.
    copy_s = per_call(lambda n: template.copy(recipients[n], now), args.recipients)
    # The email package's copy of the same, which the fast copies equal byte for byte.
    mime_s = per_call(lambda n: copy_bytes(rendered, recipients[n], sender), 100, rounds=3)
    assert template.copy(recipients[0], now) == copy_bytes(
        rendered, recipients[0], sender, now, template.stamp
    )

    size_kb = len(rendered.html.encode("utf-8")) / 1000
    personalise_ratio = render_s / personalise_s
    copy_ratio = render_s / copy_s
    print(
        f"issue: {args.articles} articles, HTML {size_kb:.1f} KB, text {len(rendered.text)} chars"
    )
    print(f"render once (Jinja2 + premailer):   {render_s * 1000:9.2f} ms")
    print(
        f"personalise one recipient:          {personalise_s * 1e6:9.2f} µs"
        f"   ratio {personalise_ratio:8.0f}x"
    )
    print(f"full copy (template, checked):      {copy_s * 1e6:9.2f} µs   ratio {copy_ratio:8.0f}x")
    print(
        f"  the template, once per message:   {template_s * 1e6:9.2f} µs"
        f"\n  the email package's copy:         {mime_s * 1e6:9.2f} µs"
        f"   ratio {render_s / mime_s:8.0f}x   ({mime_s / copy_s:.0f}x the fast copy)"
    )
    targets = Targets()
    targets.check(
        f"personalising >= {MIN_RATIO_PERSONALISE}x cheaper than rendering",
        f"{personalise_ratio:.0f}x",
        personalise_ratio >= MIN_RATIO_PERSONALISE,
    )
    targets.check(
        f"a full copy >= {MIN_RATIO_COPY}x cheaper than rendering",
        f"{copy_ratio:.0f}x",
        copy_ratio >= MIN_RATIO_COPY,
    )
    return targets.exit_status()


if __name__ == "__main__":
    sys.exit(main())
