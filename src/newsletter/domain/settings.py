"""The settings of `config.toml`, validated: one section per table, immutable. Pure.

Each rule says what it expects in a sentence a user can act on; `domain/checked.py` builds
these from the TOML tables, `runtime/config.py` reads the file and the environment and wraps them
in a `Config`. The annotations are evaluated (no `from __future__ import annotations`): the
checks read them.

Sections are named tuples rather than frozen dataclasses: every command defines these classes
when it starts, and Python 3.11 compiles six methods for each frozen dataclass, five times what
a named tuple costs (bench/startup.py). A section is changed with `_replace`; arrays are tuples.
"""

import ipaddress
import re
from typing import Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.domain.checked import Length, Range, Rule

# Patterns are compiled (and cached by `re`) when a key that uses them is read, not on import.
# An address that can be written in a header as it is: dot-atom local part, ASCII domain.
_MAIL_ADDRESS = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
)
_SCHEDULE = r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)$"
_ORIGIN = r"^https?://[^/\s:]+(:\d{1,5})?$"
_COLOUR = r"^#[0-9a-fA-F]{6}$"
_FONT_STACK = r"^[A-Za-z0-9 ,'\"-]+$"


def _http_url(value: str) -> str:
    # Printable ASCII without spaces: it is written as is into List-Unsubscribe headers.
    if not re.match(r"^https?://[^/\s]+[\x21-\x7e]*$", value) or not value.isascii():
        raise ValueError(
            "must be an http(s) URL such as https://news.example.org, in ASCII "
            "(an internationalised domain in its xn-- form)"
        )
    return value.rstrip("/")


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
        ) from None
    return value


def _address(value: str) -> str:
    if not re.match(_MAIL_ADDRESS, value):
        raise ValueError(
            f"{value!r} is not an ASCII email address (write an internationalised domain "
            "in its xn-- form)"
        )
    return value


def _weekly(value: str) -> str:
    if not re.match(_SCHEDULE, value.strip().lower()):
        raise ValueError(f"{value!r} is not a weekday and a time like 'mon 08:00'")
    return value.strip().lower()


def _mailto(value: str) -> str:
    """`unsub@example.org` or `mailto:unsub@example.org`, kept as the bare address."""
    address = value.strip()
    if address[:7].lower() == "mailto:":
        address = address[7:]
    if address and not re.match(_MAIL_ADDRESS, address):
        raise ValueError(
            "must be an ASCII email address such as unsubscribe@example.org, or the same "
            "as a mailto: URI without parameters (the subject is added per reader)"
        )
    return address


def _domains(domains: tuple[str, ...]) -> tuple[str, ...]:
    for domain in domains:
        if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", domain.lower()):
            raise ValueError(f"{domain!r} is not a domain name like mailinator.com")
    return tuple(domain.lower() for domain in domains)


def _origins(origins: tuple[str, ...]) -> tuple[str, ...]:
    for origin in origins:
        if not re.match(_ORIGIN, origin):
            raise ValueError(
                f"{origin!r} is not an origin like https://www.example.org (no path, no '*')"
            )
    return tuple(origin.lower() for origin in origins)


def _networks(entries: tuple[str, ...]) -> tuple[str, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network like 10.0.0.5 or 10.0.0.0/24"
            ) from None
    return tuple(networks)


def _hex_colour(value: str) -> str:
    if not re.match(_COLOUR, value):
        raise ValueError("must be a colour written #rrggbb")
    return value.lower()


def _font_stack(value: str) -> str:
    if not re.match(_FONT_STACK, value):
        raise ValueError("must be a comma-separated font list (letters, digits, quotes)")
    return value


def _absolute_logo(value: str) -> str:
    if value and not re.match(r"^https?://[^/\s]+\S*$", value):
        raise ValueError("must be empty or an absolute http(s) URL")
    return value


def _campaign_fields(value: str) -> str:
    try:
        value.format(name="x", number=1)
    except (KeyError, IndexError, ValueError):
        raise ValueError("may only use the fields {name} and {number}") from None
    return value


Colour = Annotated[str, Rule(_hex_colour)]
FontStack = Annotated[str, Rule(_font_stack)]


def _at_least(section: object, name: str, floor: str, why: str = "") -> None:
    """ValueError when the key `name` is below the key `floor` (`why` says why)."""
    value, minimum = getattr(section, name), getattr(section, floor)
    if value < minimum:
        raise ValueError(f"{name} ({value}) must be at least {floor} ({minimum}){why}")


class NewsletterSection(NamedTuple):
    name: str = "Newsletter"
    base_url: Annotated[str, Rule(_http_url)] = "http://localhost:8000"
    timezone: Annotated[str, Rule(_known_zone)] = "Europe/Paris"
    language: str = "fr"
    postal_address: str = ""


class SenderSection(NamedTuple):
    email: Annotated[str, Rule(_address)] = "newsletter@example.org"
    name: str = "Newsletter"


class DatabaseSection(NamedTuple):
    url: str = "sqlite:///subscribers/newsletter.db"


class FeedSection(NamedTuple):
    name: Annotated[str, Length(1)]
    url: Annotated[str, Length(1)]
    section: str | None = None
    # The source's name as readers see it in the desk and the email (else the feed's own title).
    title: str | None = None
    # How much this source counts in the ranking of stories (1 = neutral, 0 = never first).
    weight: Annotated[float, Range(ge=0, le=10)] = 1.0


class SectionRule(NamedTuple):
    """A section a story falls into by its words when its feed has none (first match wins)."""

    name: Annotated[str, Length(1, 80)]
    keywords: tuple[Annotated[str, Length(1)], ...] = ()


class CollectSection(NamedTuple):
    every_minutes: Annotated[int, Range(ge=1)] = 30
    timeout_seconds: Annotated[float, Range(gt=0)] = 20
    max_bytes: Annotated[int, Range(ge=1024)] = 10_000_000
    concurrency: Annotated[int, Range(ge=1, le=256)] = 16
    max_redirects: Annotated[int, Range(ge=0, le=20)] = 5
    # New articles without a summary or image: read them from the article's page (OpenGraph,
    # JSON-LD), fetched once with the limits above, at most this many pages per feed and run.
    enrich: bool = False
    enrich_max_per_feed: Annotated[int, Range(ge=1, le=100)] = 10


class DigestSection(NamedTuple):
    schedule: Annotated[str, Rule(_weekly)] = "mon 08:00"
    max_articles: Annotated[int, Range(ge=1)] = 12
    min_articles: Annotated[int, Range(ge=0)] = 3
    auto_send: bool = False
    subject: str = "{name} n°{number}"
    # A "Levées de fonds de la semaine" block listing the funding rounds.
    funding: bool = False


class FileEmailSection(NamedTuple):
    dir: str = "outbox"


class SmtpEmailSection(NamedTuple):
    host: str = "localhost"
    port: Annotated[int, Range(ge=1, le=65535)] = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    timeout_seconds: Annotated[float, Range(gt=0)] = 30
    connections: Annotated[int, Range(ge=1, le=32)] = 1  # parallel connections, each reused


class SendgridEmailSection(NamedTuple):
    host: str = "https://api.sendgrid.com"
    batch_size: Annotated[int, Range(ge=1, le=1000)] = 1000
    webhook_public_key: str = ""
    timeout_seconds: Annotated[float, Range(gt=0)] = 30


class EmailSection(NamedTuple):
    provider: Literal["file", "smtp", "sendgrid", "memory"] = "file"
    batch_size: Annotated[int, Range(ge=1, le=10_000)] = 100
    # An address offered as List-Unsubscribe's mailto: alternative ("" = the https link only).
    unsubscribe_mailto: Annotated[str, Rule(_mailto)] = ""
    file: FileEmailSection = FileEmailSection()
    smtp: SmtpEmailSection = SmtpEmailSection()
    sendgrid: SendgridEmailSection = SendgridEmailSection()


class SubscribeSection(NamedTuple):
    """Sign-up rules: double opt-in timing, address policy, rate limits of POST /subscribe."""

    confirm_days: Annotated[int, Range(ge=1, le=60)] = 7  # confirmation links expire after
    pending_days: Annotated[int, Range(ge=1, le=365)] = 14  # never-confirmed sign-ups purged after
    resend_minutes: Annotated[int, Range(ge=1, le=1440)] = 5  # at most one confirmation per
    refuse_role_addresses: bool = False  # contact@, info@, postmaster@ ...
    refuse_disposable: bool = False  # throw-away mailbox domains
    # Added to the built-in list.
    disposable_domains: Annotated[tuple[str, ...], Rule(_domains)] = ()
    ip_per_minute: Annotated[float, Range(ge=0)] = 20  # 0 = no limit
    ip_burst: Annotated[int, Range(ge=1)] = 20
    address_per_hour: Annotated[float, Range(ge=0)] = 10  # 0 = no limit
    address_burst: Annotated[int, Range(ge=1)] = 3

    def check(self) -> None:
        _at_least(self, "pending_days", "confirm_days", ": a link would outlive its sign-up")


class WebSection(NamedTuple):
    # Sites whose pages may POST /subscribe from a script.
    cors_origins: Annotated[tuple[str, ...], Rule(_origins)] = ()
    max_body_bytes: Annotated[int, Range(ge=1024, le=1_000_000)] = 8192  # forms; 413 above

    host: str = "127.0.0.1"
    port: Annotated[int, Range(ge=0, le=65535)] = 8000
    # Reverse proxies (IPs or CIDR networks) whose X-Forwarded-For is believed; none by default,
    # so a client cannot choose the address its rate limit and consent record are kept under.
    forwarded_allow_ips: Annotated[tuple[str, ...], Rule(_networks)] = ()


class DeskSection(NamedTuple):
    """The editors' desk: how long a login lasts, how many failed logins are tolerated.

    Failures count per (name, client address), so nobody can lock an editor out from elsewhere,
    and per client address over all names, so one client cannot try name after name."""

    session_hours: Annotated[float, Range(gt=0, le=24 * 30)] = 12
    login_attempts: Annotated[int, Range(ge=1, le=100)] = 5  # per name and client address
    login_attempts_per_client: Annotated[int, Range(ge=1, le=1000)] = 20  # any names
    login_window_minutes: Annotated[float, Range(gt=0, le=24 * 60)] = 15

    def check(self) -> None:
        _at_least(self, "login_attempts_per_client", "login_attempts")


class ThemeSection(NamedTuple):
    """Colours, logo and fonts of the emails and the public pages: restyle without editing
    templates."""

    brand_color: Colour = "#c8102e"
    text_color: Colour = "#1f2328"
    muted_color: Colour = "#5b6470"
    background_color: Colour = "#f2f3f5"
    surface_color: Colour = "#ffffff"
    dark_brand_color: Colour = "#ff7a8c"
    dark_text_color: Colour = "#e8eaed"
    dark_background_color: Colour = "#111418"
    dark_surface_color: Colour = "#1c2026"
    logo_url: Annotated[str, Rule(_absolute_logo)] = ""
    logo_width: Annotated[int, Range(ge=16, le=600)] = 160
    # Unset: no height attribute, so Outlook keeps the logo's own ratio at `logo_width`.
    logo_height: Annotated[int, Range(ge=16, le=300)] | None = None
    font_family: FontStack = "Helvetica, Arial, sans-serif"
    heading_font_family: FontStack = "Georgia, 'Times New Roman', Times, serif"


class LinksSection(NamedTuple):
    """UTM parameters added to article links (never to unsubscribe or web-version links)."""

    track_clicks: bool = True  # article links go through {base_url}/c/{token}
    utm: bool = True
    utm_source: str = "newsletter"
    utm_medium: str = "email"
    utm_campaign: Annotated[str, Rule(_campaign_fields)] = "{name}-{number}"


def _unique(what: str) -> Rule:
    """No two entries of a list of tables share a name."""

    def check(entries: tuple[Any, ...]) -> tuple[Any, ...]:
        names = [entry.name for entry in entries]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two {what} are named {name!r}")
        return entries

    return Rule(check)


class Settings(NamedTuple):
    newsletter: NewsletterSection = NewsletterSection()
    sender: SenderSection = SenderSection()
    database: DatabaseSection = DatabaseSection()
    feeds: Annotated[tuple[FeedSection, ...], _unique("feeds")] = ()
    sections: Annotated[tuple[SectionRule, ...], _unique("sections")] = ()
    collect: CollectSection = CollectSection()
    digest: DigestSection = DigestSection()
    email: EmailSection = EmailSection()
    subscribe: SubscribeSection = SubscribeSection()
    web: WebSection = WebSection()
    desk: DeskSection = DeskSection()
    theme: ThemeSection = ThemeSection()
    links: LinksSection = LinksSection()

    def section_names(self) -> list[str]:
        """Every section of the newsletter, in order: the feeds' own, then the keyword rules'."""
        names: list[str] = []
        for name in [feed.section for feed in self.feeds] + [s.name for s in self.sections]:
            if name and name not in names:
                names.append(name)
        return names


class Secrets(NamedTuple):
    smtp_password: str = ""
    sendgrid_api_key: str = ""
    sendgrid_webhook_public_key: str = ""
    secret_key: str = ""
