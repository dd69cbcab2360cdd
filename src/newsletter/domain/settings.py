"""The settings of `config.toml`, validated: one frozen section per table. Pure.

Each rule says what it expects in a sentence a user can act on; `domain/checked.py` builds
these from the TOML tables, `runtime/config.py` reads the file and the environment and wraps them
in a `Config`. The annotations are evaluated (no `from __future__ import annotations`): the
checks read them.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
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


def _domains(domains: list[str]) -> list[str]:
    for domain in domains:
        if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", domain.lower()):
            raise ValueError(f"{domain!r} is not a domain name like mailinator.com")
    return [domain.lower() for domain in domains]


def _origins(origins: list[str]) -> list[str]:
    for origin in origins:
        if not re.match(_ORIGIN, origin):
            raise ValueError(
                f"{origin!r} is not an origin like https://www.example.org (no path, no '*')"
            )
    return [origin.lower() for origin in origins]


def _networks(entries: list[str]) -> list[str]:
    networks = []
    for entry in entries:
        try:
            networks.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network like 10.0.0.5 or 10.0.0.0/24"
            ) from None
    return networks


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


class _Section:
    def at_least(self, name: str, floor: str, why: str = "") -> None:
        """ValueError when the key `name` is below the key `floor` (`why` says why)."""
        value, minimum = getattr(self, name), getattr(self, floor)
        if value < minimum:
            raise ValueError(f"{name} ({value}) must be at least {floor} ({minimum}){why}")


@dataclass(frozen=True)
class NewsletterSection(_Section):
    name: str = "Newsletter"
    base_url: Annotated[str, Rule(_http_url)] = "http://localhost:8000"
    timezone: Annotated[str, Rule(_known_zone)] = "Europe/Paris"
    language: str = "fr"
    postal_address: str = ""


@dataclass(frozen=True)
class SenderSection(_Section):
    email: Annotated[str, Rule(_address)] = "newsletter@example.org"
    name: str = "Newsletter"


@dataclass(frozen=True)
class DatabaseSection(_Section):
    url: str = "sqlite:///subscribers/newsletter.db"


@dataclass(frozen=True)
class FeedSection(_Section):
    name: Annotated[str, Length(1)]
    url: Annotated[str, Length(1)]
    section: str | None = None
    # The source's name as readers see it in the desk and the email (else the feed's own title).
    title: str | None = None
    # How much this source counts in the ranking of stories (1 = neutral, 0 = never first).
    weight: Annotated[float, Range(ge=0, le=10)] = 1.0


@dataclass(frozen=True)
class SectionRule(_Section):
    """A section a story falls into by its words when its feed has none (first match wins)."""

    name: Annotated[str, Length(1, 80)]
    keywords: list[Annotated[str, Length(1)]] = field(default_factory=list)


@dataclass(frozen=True)
class CollectSection(_Section):
    every_minutes: Annotated[int, Range(ge=1)] = 30
    timeout_seconds: Annotated[float, Range(gt=0)] = 20
    max_bytes: Annotated[int, Range(ge=1024)] = 10_000_000
    concurrency: Annotated[int, Range(ge=1, le=256)] = 16
    max_redirects: Annotated[int, Range(ge=0, le=20)] = 5
    # New articles without a summary or image: read them from the article's page (OpenGraph,
    # JSON-LD), fetched once with the limits above, at most this many pages per feed and run.
    enrich: bool = False
    enrich_max_per_feed: Annotated[int, Range(ge=1, le=100)] = 10


@dataclass(frozen=True)
class DigestSection(_Section):
    schedule: Annotated[str, Rule(_weekly)] = "mon 08:00"
    max_articles: Annotated[int, Range(ge=1)] = 12
    min_articles: Annotated[int, Range(ge=0)] = 3
    auto_send: bool = False
    subject: str = "{name} n°{number}"
    # A "Levées de fonds de la semaine" block listing the funding rounds.
    funding: bool = False


@dataclass(frozen=True)
class FileEmailSection(_Section):
    dir: str = "outbox"


@dataclass(frozen=True)
class SmtpEmailSection(_Section):
    host: str = "localhost"
    port: Annotated[int, Range(ge=1, le=65535)] = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    timeout_seconds: Annotated[float, Range(gt=0)] = 30
    connections: Annotated[int, Range(ge=1, le=32)] = 1  # parallel connections, each reused


@dataclass(frozen=True)
class SendgridEmailSection(_Section):
    host: str = "https://api.sendgrid.com"
    batch_size: Annotated[int, Range(ge=1, le=1000)] = 1000
    webhook_public_key: str = ""
    timeout_seconds: Annotated[float, Range(gt=0)] = 30


@dataclass(frozen=True)
class EmailSection(_Section):
    provider: Literal["file", "smtp", "sendgrid", "memory"] = "file"
    batch_size: Annotated[int, Range(ge=1, le=10_000)] = 100
    # An address offered as List-Unsubscribe's mailto: alternative ("" = the https link only).
    unsubscribe_mailto: Annotated[str, Rule(_mailto)] = ""
    file: FileEmailSection = field(default_factory=FileEmailSection)
    smtp: SmtpEmailSection = field(default_factory=SmtpEmailSection)
    sendgrid: SendgridEmailSection = field(default_factory=SendgridEmailSection)


@dataclass(frozen=True)
class SubscribeSection(_Section):
    """Sign-up rules: double opt-in timing, address policy, rate limits of POST /subscribe."""

    confirm_days: Annotated[int, Range(ge=1, le=60)] = 7  # confirmation links expire after
    pending_days: Annotated[int, Range(ge=1, le=365)] = 14  # never-confirmed sign-ups purged after
    resend_minutes: Annotated[int, Range(ge=1, le=1440)] = 5  # at most one confirmation per
    refuse_role_addresses: bool = False  # contact@, info@, postmaster@ ...
    refuse_disposable: bool = False  # throw-away mailbox domains
    # Added to the built-in list.
    disposable_domains: Annotated[list[str], Rule(_domains)] = field(default_factory=list)
    ip_per_minute: Annotated[float, Range(ge=0)] = 20  # 0 = no limit
    ip_burst: Annotated[int, Range(ge=1)] = 20
    address_per_hour: Annotated[float, Range(ge=0)] = 10  # 0 = no limit
    address_burst: Annotated[int, Range(ge=1)] = 3

    def __post_init__(self) -> None:
        self.at_least("pending_days", "confirm_days", ": a link would outlive its sign-up")


@dataclass(frozen=True)
class WebSection(_Section):
    # Sites whose pages may POST /subscribe from a script.
    cors_origins: Annotated[list[str], Rule(_origins)] = field(default_factory=list)
    max_body_bytes: Annotated[int, Range(ge=1024, le=1_000_000)] = 8192  # forms; 413 above

    host: str = "127.0.0.1"
    port: Annotated[int, Range(ge=0, le=65535)] = 8000
    # Reverse proxies (IPs or CIDR networks) whose X-Forwarded-For is believed; none by default,
    # so a client cannot choose the address its rate limit and consent record are kept under.
    forwarded_allow_ips: Annotated[list[str], Rule(_networks)] = field(default_factory=list)


@dataclass(frozen=True)
class DeskSection(_Section):
    """The editors' desk: how long a login lasts, how many failed logins are tolerated.

    Failures count per (name, client address), so nobody can lock an editor out from elsewhere,
    and per client address over all names, so one client cannot try name after name."""

    session_hours: Annotated[float, Range(gt=0, le=24 * 30)] = 12
    login_attempts: Annotated[int, Range(ge=1, le=100)] = 5  # per name and client address
    login_attempts_per_client: Annotated[int, Range(ge=1, le=1000)] = 20  # any names
    login_window_minutes: Annotated[float, Range(gt=0, le=24 * 60)] = 15

    def __post_init__(self) -> None:
        self.at_least("login_attempts_per_client", "login_attempts")


@dataclass(frozen=True)
class ThemeSection(_Section):
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


@dataclass(frozen=True)
class LinksSection(_Section):
    """UTM parameters added to article links (never to unsubscribe or web-version links)."""

    track_clicks: bool = True  # article links go through {base_url}/c/{token}
    utm: bool = True
    utm_source: str = "newsletter"
    utm_medium: str = "email"
    utm_campaign: Annotated[str, Rule(_campaign_fields)] = "{name}-{number}"


def _unique(what: str) -> Rule:
    """No two entries of a list of tables share a name."""

    def check(entries: list[Any]) -> list[Any]:
        names = [entry.name for entry in entries]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two {what} are named {name!r}")
        return entries

    return Rule(check)


@dataclass(frozen=True)
class Settings(_Section):
    newsletter: NewsletterSection = field(default_factory=NewsletterSection)
    sender: SenderSection = field(default_factory=SenderSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    feeds: Annotated[list[FeedSection], _unique("feeds")] = field(default_factory=list)
    sections: Annotated[list[SectionRule], _unique("sections")] = field(default_factory=list)
    collect: CollectSection = field(default_factory=CollectSection)
    digest: DigestSection = field(default_factory=DigestSection)
    email: EmailSection = field(default_factory=EmailSection)
    subscribe: SubscribeSection = field(default_factory=SubscribeSection)
    web: WebSection = field(default_factory=WebSection)
    desk: DeskSection = field(default_factory=DeskSection)
    theme: ThemeSection = field(default_factory=ThemeSection)
    links: LinksSection = field(default_factory=LinksSection)

    def section_names(self) -> list[str]:
        """Every section of the newsletter, in order: the feeds' own, then the keyword rules'."""
        names: list[str] = []
        for name in [feed.section for feed in self.feeds] + [s.name for s in self.sections]:
            if name and name not in names:
                names.append(name)
        return names


@dataclass(frozen=True)
class Secrets:
    smtp_password: str = ""
    sendgrid_api_key: str = ""
    sendgrid_webhook_public_key: str = ""
    secret_key: str = ""
