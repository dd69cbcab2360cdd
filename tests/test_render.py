"""The rendered digest and transactional emails: inlined layout, safe links, size, text part,
French typography, and placeholders that survive premailer for per-recipient copies."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage
from newsletter.domain.errors import ConfigError, RenderError
from newsletter.render.clipping import GMAIL_CLIP_BYTES, clipping_risk, clipping_warning
from newsletter.render.personalise import personalise
from newsletter.render.plaintext import WIDTH
from newsletter.render.renderer import Renderer
from newsletter.runtime import wiring
from tests.render_support import inline_styles, parse, render_config
from tests.sample_issue import sample_issue

BASE_URL = "https://news.example.org"
PLACEHOLDERS = Placeholders("0123456789abcdef01234567")  # as a render draws them
UNSUBSCRIBE_URL = PLACEHOLDERS.unsubscribe_url


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(render_config(tmp_path))


@pytest.fixture
def digest(renderer: Renderer) -> RenderedMessage:
    return renderer.render_issue(sample_issue(5), PLACEHOLDERS)


def recipient(name: str | None = "Camille", url: str = f"{BASE_URL}/unsubscribe/tok.en") -> Any:
    return Recipient(
        delivery_id=1, subscriber_id=1, email="c@example.org", name=name, unsubscribe_url=url
    )


def hostile_issue() -> Any:
    """Issue items whose feed data tries script, event handlers and javascript: links."""
    issue = sample_issue(3)
    first, second, third = issue.items
    items = (
        replace(
            first,
            article=replace(
                first.article,
                url="javascript:alert(1)",
                image_url="javascript:alert(2)",
                title="<script>alert('title')</script>",
            ),
        ),
        replace(
            second,
            article=replace(
                second.article,
                url='https://ok.example.org/"><script>alert(3)</script>',
                image_url="data:image/svg+xml,<svg onload=alert(4)>",
                summary='<img src=x onerror="alert(5)"> résumé',
            ),
        ),
        replace(
            third,
            title='"><a href="javascript:alert(6)">x</a>',
            article=replace(third.article, url="//evil.example.org/x", image_url="/relative.png"),
        ),
    )
    return replace(issue, items=items, intro="[clic](javascript:alert(7)) <b onclick=x>gras</b>")


# -- layout ---------------------------------------------------------------------------------


def test_every_layout_rule_is_inlined(digest: RenderedMessage) -> None:
    """Only @media blocks stay in the inlined <style>; the rest lives in style attributes."""
    root = parse(digest.html)
    inlined_block = root.xpath("//style")[0].text
    without_media = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", inlined_block)
    assert without_media.strip() == ""
    assert "@media only screen and (max-width: 599px)" in inlined_block
    assert "prefers-color-scheme: dark" in inlined_block
    card = root.xpath("//td[contains(@class, 'nl-card')]")[0]
    assert "padding-top:20px" in card.get("style").replace(" ", "")


def test_important_is_kept_in_media_rules(digest: RenderedMessage) -> None:
    """The responsive overrides keep their !important (they must beat inline styles)."""
    assert "width: 88px !important" in digest.html


def test_no_layout_css_that_gmail_or_outlook_ignore(digest: RenderedMessage) -> None:
    """No flex, grid, float or position in inline styles."""
    for style in inline_styles(parse(digest.html)):
        compact = style.replace(" ", "").lower()
        assert "display:flex" not in compact and "display:grid" not in compact, style
        assert "position:" not in compact and "float:" not in compact, style


def test_layout_tables_are_presentational(digest: RenderedMessage) -> None:
    """Every table is a layout table marked role=presentation."""
    tables = parse(digest.html).xpath("//table")
    assert tables
    assert all(table.get("role") == "presentation" for table in tables)


def test_images_have_alt_width_and_height(renderer: Renderer) -> None:
    """Every <img> carries alt and width, and a height exactly when its ratio is known (here:
    logo without a configured height, lead image and thumbnails; see tests/test_images.py)."""
    config = render_config(
        renderer._config.root, theme={"logo_url": "https://cdn.example.org/logo.png"}
    )
    html = Renderer(config).render_issue(sample_issue(6)).html
    images = parse(html).xpath("//img")
    assert len(images) == 6  # logo + 5 of 6 articles have an image
    # The logo names the newsletter; article pictures are decorative (their title is beside
    # them): an empty alt, so screen readers do not read each title twice.
    assert [image.get("alt") for image in images] == ["MaddyNews"] + [""] * 5
    for image in images:
        assert image.get("width", "").isdigit()
        assert image.get("height") is None or image.get("height").isdigit()
    heights = [image.get("height") for image in images]
    assert heights == [None, "281", "160", "84", "160", None]


def test_document_language_direction_and_preheader(digest: RenderedMessage) -> None:
    """lang/dir are set, and the preheader is the first, hidden, text of the body."""
    root = parse(digest.html)
    assert root.get("lang") == "fr" and root.get("dir") == "ltr"
    preheader = root.xpath("//div[contains(@class, 'nl-preheader')]")[0]
    assert "display:none" in preheader.get("style").replace(" ", "")
    assert preheader.text_content().startswith("Une start-up lilloise lève 12 millions")


def test_outlook_conditionals_and_bulletproof_button(digest: RenderedMessage) -> None:
    """MSO ghost table and VML button survive premailer."""
    assert '<!--[if mso]><table role="presentation" align="center" width="600"' in digest.html
    assert "<v:roundrect" in digest.html
    assert "<!--[if !mso]><!-->" in digest.html


def test_digest_content(digest: RenderedMessage) -> None:
    """Sections with headings, cards with source, French date, summary and Lire la suite."""
    root = parse(digest.html)
    headings = [h.text_content() for h in root.xpath("//h2")]
    assert headings == ["Au sommaire", "À la une", "Tech & financement", "Entrepreneuriat"]
    text = root.text_content()
    assert "24\u00a0novembre 2026" in text and "lundi 23\u00a0novembre 2026" in text
    assert text.count("Lire la suite") == 5
    assert "la logistique verte" in root.xpath("//strong")[0].text_content()
    assert "MaddyNews, 10 rue de l’Exemple, 75002 Paris" in text


def test_editor_titles_and_summaries_win(renderer: Renderer) -> None:
    """An editor's title/summary override replaces the feed's in both parts."""
    issue = sample_issue(2)
    first = replace(issue.items[0], title="Titre de la rédaction", summary="Résumé maison")
    rendered = renderer.render_issue(replace(issue, items=(first, issue.items[1])))
    assert "Titre de la rédaction" in rendered.html and "Résumé maison" in rendered.text
    assert "décarboner" not in rendered.text.split("French Tech")[0]


# -- links ----------------------------------------------------------------------------------


def test_every_link_is_absolute_https_base_url_or_placeholder(digest: RenderedMessage) -> None:
    """href/src values: https, the configured base URL, or the unsubscribe and preferences
    placeholders."""
    for element in parse(digest.html).iter():
        for attribute in ("href", "src"):
            value = element.get(attribute) if isinstance(element.tag, str) else None
            if value is None:
                continue
            assert (
                value.startswith("https://")
                or value.startswith(BASE_URL)
                or value in (UNSUBSCRIBE_URL, digest.placeholders.preferences_url)
            ), value


def test_article_links_carry_utm_but_not_unsubscribe_or_web_version(
    digest: RenderedMessage,
) -> None:
    """UTM tags on article links only."""
    hrefs = [a.get("href") for a in parse(digest.html).xpath("//a")]
    articles = [h for h in hrefs if ".example.fr/" in h]
    assert articles and all(
        "utm_source=maddynews&utm_medium=email&utm_campaign=maddynews-42" in h for h in articles
    )
    own = [h for h in hrefs if h.startswith(BASE_URL) or h == UNSUBSCRIBE_URL]
    assert own and not any("utm_" in h for h in own)
    assert "utm_" not in digest.text.split("Se désinscrire")[1]


def test_utm_off_switch(tmp_path: Path) -> None:
    """[links] utm = false leaves article links untouched."""
    rendered = Renderer(render_config(tmp_path, links={"utm": False})).render_issue(sample_issue(2))
    assert "utm_" not in rendered.html and "utm_" not in rendered.text
    assert 'href="https://www.maddyness.example.fr/2026/11/article-1/"' in rendered.html


def test_relative_template_links_become_absolute(tmp_path: Path) -> None:
    """A designer's relative link is made absolute against base_url; the placeholder is not."""
    config = render_config(tmp_path)
    override = tmp_path / "custom"
    override.mkdir()
    for path in (config.templates_dir).iterdir():
        (override / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    footer = '<a href="{{ unsubscribe_url }}">Se désinscrire</a> <a href="/subscribe">Rel</a>'
    digest = (override / "digest.html").read_text(encoding="utf-8")
    digest = re.sub(r"{% block footer_links %}.*{% endblock %}", "", digest)
    (override / "digest.html").write_text(
        digest + "{% block footer_links %}" + footer + "{% endblock %}", encoding="utf-8"
    )
    renderer = Renderer(config)
    renderer._env.loader = __import__("jinja2").FileSystemLoader(str(override))
    html = renderer.render_issue(sample_issue(1), PLACEHOLDERS).html
    assert f'href="{BASE_URL}/subscribe"' in html
    assert f'href="{UNSUBSCRIBE_URL}"' in html


# -- placeholders and personalisation -------------------------------------------------------


def test_unsubscribe_placeholder_survives_premailer(digest: RenderedMessage) -> None:
    """premailer neither joins it to base_url nor URL-encodes it."""
    assert f'href="{UNSUBSCRIBE_URL}"' in digest.html
    assert "%25%25" not in digest.html and f"/{UNSUBSCRIBE_URL}" not in digest.html
    assert f"Se désinscrire\u00a0: {UNSUBSCRIBE_URL}" in digest.text


def test_personalised_copy_has_a_working_unsubscribe_link(digest: RenderedMessage) -> None:
    """After personalise(), the link is the recipient's URL, in both parts."""
    url = f"{BASE_URL}/unsubscribe/abc.def?x=1&y=2"
    copy = personalise(digest, recipient(url=url))
    assert f'href="{BASE_URL}/unsubscribe/abc.def?x=1&amp;y=2"' in copy.html
    assert url in copy.text and "%%" not in copy.html + copy.text


def test_personalise_escapes_a_hostile_name(renderer: Renderer) -> None:
    """A subscriber named <script> is text in the HTML part of the welcome email."""
    welcome = renderer.render_email("welcome", {})
    assert welcome.placeholders.name in welcome.html
    copy = personalise(welcome, recipient(name="<script>alert(1)</script>"))
    assert "<script>" not in copy.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in copy.html
    assert not parse(copy.html).xpath("//script")


# -- hostile article data -------------------------------------------------------------------


def test_hostile_article_data_never_becomes_markup(renderer: Renderer) -> None:
    """No script element, on* attribute or javascript:/data: URL reaches the email."""
    rendered = renderer.render_issue(hostile_issue())
    root = parse(rendered.html)
    assert not root.xpath("//script")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert not [name for name in element.attrib if name.lower().startswith("on")]
        for attribute in ("href", "src"):
            value = (element.get(attribute) or "").lower()
            assert not value.startswith(("javascript:", "data:", "//", "/")), value
    # The only "javascript:" left is the third title, shown as escaped text, never a link (in
    # its card and in the "Au sommaire" list, in both parts).
    escaped_title = '&lt;a href="javascript:alert(6)"&gt;x&lt;/a&gt;'
    assert rendered.html.replace("&quot;", '"').lower().count("javascript:") == 2
    assert escaped_title in rendered.html.replace("&quot;", '"')
    assert rendered.text.lower().count("javascript:") == 2
    assert "&lt;script&gt;alert('title')&lt;/script&gt;" in rendered.html.replace("&#39;", "'")
    assert "evil.example.org" not in rendered.html  # protocol-relative link dropped
    assert "relative.png" not in rendered.html  # relative image dropped, not joined


def test_article_without_safe_link_has_no_read_more(renderer: Renderer) -> None:
    """A dropped article link leaves the title as text and no Lire la suite."""
    rendered = renderer.render_issue(hostile_issue())
    lead = parse(rendered.html).xpath("//h3")[0]
    assert not lead.xpath(".//a")
    assert rendered.text.count("Lire la suite") == 1  # only the https article keeps it


# -- size -----------------------------------------------------------------------------------


def test_fifteen_article_issue_stays_under_gmail_clipping(renderer: Renderer) -> None:
    """15 articles render well under 102 KB, and clipping_risk says so."""
    rendered = renderer.render_issue(sample_issue(15))
    size = len(rendered.html.encode("utf-8"))
    assert size < GMAIL_CLIP_BYTES
    assert clipping_risk(rendered) is None and clipping_warning(rendered) is None


def test_clipping_risk_reports_oversized_html(digest: RenderedMessage) -> None:
    """An HTML part over the limit is reported with its size and a one-line warning."""
    bloated = replace(digest, html=digest.html + "x" * GMAIL_CLIP_BYTES)
    size = len(bloated.html.encode("utf-8"))
    assert clipping_risk(bloated) == size
    warning = clipping_warning(bloated)
    assert warning is not None and "Gmail clips" in warning and "\n" not in warning


# -- text part and typography ---------------------------------------------------------------


def test_text_part_is_wrapped_lists_links_and_has_no_html(digest: RenderedMessage) -> None:
    """72 columns (a lone URL may be longer), every article link listed, no tags or entities."""
    for line in digest.text.splitlines():
        assert len(line) <= WIDTH or " " not in line.strip(), line
    hrefs = {a.get("href") for a in parse(digest.html).xpath("//a[contains(@href, '.fr/')]")}
    assert hrefs and all(href in digest.text for href in hrefs)
    assert "https://lafrenchtech.gouv.fr/next40" in digest.text
    assert not re.search(r"</?[a-z][^>]*>", digest.text)
    assert not re.search(r"&[a-z]+;|&#\d+;", digest.text)


def test_valid_utf8_and_french_typography(digest: RenderedMessage) -> None:
    """Apostrophes, accents and non-breaking spaces before : ; ! ? » and after « are kept."""
    for part in (digest.html, digest.text.replace("\n", " ")):
        assert part.encode("utf-8").decode("utf-8") == part
        assert "d’euros" in part and "décarboner" in part
        assert "«\u00a0nous livrons déjà 40 villes\u00a0»" in part
        assert "French Tech\u00a0: le programme" in part
        assert "conçus en France\u00a0; aucun" in part
        assert "huit personnes\u00a0!" in part
        assert "nouveaux venus\u00a0?" in part
    assert "Vous n’arrivez pas à lire cet e-mail\u00a0?" in digest.html


def test_subject_fills_name_and_number(digest: RenderedMessage) -> None:
    """The stored subject's {name} and {number} are filled in, with French spacing."""
    assert digest.subject == "MaddyNews n°42\u00a0: la logistique verte lève 12 M€"
    assert digest.issue_id == 7


# -- theme ----------------------------------------------------------------------------------


def test_theme_restyles_without_template_edits(tmp_path: Path) -> None:
    """Brand colour and fonts from [theme] reach the inline styles."""
    config = render_config(
        tmp_path, theme={"brand_color": "#0055AA", "font_family": "Verdana, sans-serif"}
    )
    html = Renderer(config).render_issue(sample_issue(2)).html
    assert "background-color:#05a" in html.replace(" ", "") or "#0055aa" in html
    assert "font-family:Verdana, sans-serif" in html
    assert "#c8102e" not in html


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("brand_color", "red"),
        ("brand_color", "#12345"),
        ("font_family", "Arial; } body { display:none"),
        ("logo_url", "javascript:alert(1)"),
    ],
)
def test_theme_rejects_bad_values(tmp_path: Path, key: str, value: str) -> None:
    """Bad theme values are configuration errors naming the key."""
    with pytest.raises(ConfigError) as caught:
        render_config(tmp_path, theme={key: value})
    assert caught.value.key == f"theme.{key}"


def test_utm_campaign_rejects_unknown_fields(tmp_path: Path) -> None:
    """Only {name} and {number} may appear in links.utm_campaign."""
    with pytest.raises(ConfigError, match=r"links\.utm_campaign"):
        render_config(tmp_path, links={"utm_campaign": "{issue}"})


# -- transactional emails and errors --------------------------------------------------------


def test_confirm_email(renderer: Renderer) -> None:
    """Subject, a button and a copyable link to the confirmation URL, no unsubscribe link."""
    url = f"{BASE_URL}/confirm/abc.def"
    message = renderer.render_email("confirm", {"confirm_url": url}, PLACEHOLDERS)
    assert message.subject == "Confirmez votre inscription à MaddyNews"
    assert message.html.count(f'href="{url}"') == 3 and url in message.text  # VML, a, copy
    assert UNSUBSCRIBE_URL not in message.html
    assert message.issue_id is None and message.categories == ("confirm",)


def test_confirm_email_drops_an_unsafe_confirm_url(renderer: Renderer) -> None:
    """Context URLs go through the same link check as everything else."""
    message = renderer.render_email("confirm", {"confirm_url": "javascript:alert(1)"})
    assert "javascript:" not in message.html
    assert "javascript:" not in message.text


def test_welcome_and_test_emails(renderer: Renderer) -> None:
    """Welcome has the unsubscribe placeholder; the test email says it is a test."""
    welcome = renderer.render_email("welcome", {}, PLACEHOLDERS)
    assert welcome.subject == "Bienvenue dans MaddyNews"
    assert f'href="{UNSUBSCRIBE_URL}"' in welcome.html and UNSUBSCRIBE_URL in welcome.text
    test = renderer.render_email("test", {})
    assert test.subject.startswith("[TEST]")
    assert "Ceci est un e-mail de test" in test.html and "Ceci est un e-mail de test" in test.text


def test_unknown_email_is_a_render_error(tmp_path: Path) -> None:
    """A one-line RenderError for an unknown email name."""
    renderer = Renderer(render_config(tmp_path))
    with pytest.raises(RenderError, match="unknown email 'goodbye'"):
        renderer.render_email("goodbye", {})


def test_without_a_templates_folder_the_shipped_templates_render(tmp_path: Path) -> None:
    """No templates/email/ beside the config: every email renders from the package's own."""
    config = render_config(tmp_path)
    from_the_folder = Renderer(config).render_issue(sample_issue(2), PLACEHOLDERS)
    (tmp_path / "templates").unlink()
    renderer = Renderer(config)
    shipped = renderer.render_issue(sample_issue(2), PLACEHOLDERS)
    assert shipped == from_the_folder and "<!DOCTYPE html>" in shipped.html
    assert renderer.render_email("test", {}).subject.startswith("[TEST]")


def test_a_templates_folder_overrides_the_shipped_ones_file_by_file(tmp_path: Path) -> None:
    """A test.txt of its own replaces that one file; test.html still comes from the package."""
    folder = tmp_path / "templates" / "email"
    folder.mkdir(parents=True)
    config = render_config(tmp_path)
    (folder / "test.txt").write_text("Our own plain text, {{ newsletter.name }}.\n")
    test = Renderer(config).render_email("test", {})
    assert test.text.startswith("Our own plain text, ")
    assert "Ceci est un e-mail de test" in test.html


def test_a_templates_path_that_is_a_file_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email").write_text("not a folder")
    with pytest.raises(RenderError, match="is not a folder"):
        Renderer(render_config(tmp_path))


def test_template_mistakes_are_one_line_render_errors(tmp_path: Path) -> None:
    """A designer's typo names the template and line instead of a traceback."""
    folder = tmp_path / "site"
    (folder / "templates" / "email").mkdir(parents=True)
    config = render_config(folder)
    (folder / "templates" / "email" / "digest.html").write_text(
        "<p>\n{{ nope.missing }}</p>", encoding="utf-8"
    )
    (folder / "templates" / "email" / "digest.txt").write_text("x", encoding="utf-8")
    with pytest.raises(RenderError, match=r"digest\.html:2: 'nope' is undefined"):
        Renderer(config).render_issue(sample_issue(1))
    (folder / "templates" / "email" / "digest.html").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(RenderError, match=r"digest\.html:1: "):
        Renderer(config).render_issue(sample_issue(1))


def test_feed_html_never_reaches_the_email(renderer: Renderer) -> None:
    """Only the plain-text summary is used: a tracking pixel or promo block in the article's
    HTML content does not appear in either part."""
    issue = sample_issue(1)
    item = issue.items[0]
    content = (
        '<p>Texte</p><img src="https://track.example.com/pixel.gif" width="1" height="1">'
        '<div class="promo">Abonnez-vous à notre newsletter</div>'
    )
    hostile = replace(item, article=replace(item.article, content_html=content))
    rendered = renderer.render_issue(replace(issue, items=(hostile,)))
    for part in (rendered.html, rendered.text):
        assert "track.example.com" not in part and "Abonnez-vous à notre newsletter" not in part
    assert "La jeune pousse nordiste" in rendered.html


def test_the_wiring_builds_one_renderer_for_its_config(services: wiring.Services) -> None:
    """Every use case gets the same renderer (one Jinja environment, templates compiled once);
    a replaced configuration gets a renderer of its own, never the old settings."""
    renderer = services.renderer
    assert services.renderer is renderer and renderer.config is services.config
    services.config = replace(services.config)
    assert services.renderer is not renderer and services.renderer.config is services.config
