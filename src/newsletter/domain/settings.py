"""The settings of `config.toml`, validated: one frozen section per table. Pure.

Each validator says what it expects in a sentence a user can act on; `runtime/config.py` reads
the file and the environment and wraps these in a `Config`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# An address that can be written in a header as it is: dot-atom local part, ASCII domain.
_MAIL_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
)
_SCHEDULE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def at_least(self, name: str, floor: str, why: str = "") -> Self:
        """Self, or ValueError when the key `name` is below the key `floor` (`why` says why)."""
        value, minimum = getattr(self, name), getattr(self, floor)
        if value < minimum:
            raise ValueError(f"{name} ({value}) must be at least {floor} ({minimum}){why}")
        return self


class NewsletterSection(_Section):
    name: str = "Newsletter"
    base_url: str = "http://localhost:8000"
    timezone: str = "Europe/Paris"
    language: str = "fr"
    postal_address: str = ""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # Printable ASCII without spaces: it is written as is into List-Unsubscribe headers.
        if not re.match(r"^https?://[^/\s]+[\x21-\x7e]*$", value) or not value.isascii():
            raise ValueError(
                "must be an http(s) URL such as https://news.example.org, in ASCII "
                "(an internationalised domain in its xn-- form)"
            )
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
            ) from None
        return value


class SenderSection(_Section):
    email: str = "newsletter@example.org"
    name: str = "Newsletter"

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _MAIL_ADDRESS.match(value):
            raise ValueError(
                f"{value!r} is not an ASCII email address (write an internationalised domain "
                "in its xn-- form)"
            )
        return value


class DatabaseSection(_Section):
    url: str = "sqlite:///subscribers/newsletter.db"


class FeedSection(_Section):
    name: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(min_length=1)]
    section: str | None = None
    # The source's name as readers see it in the desk and the email (else the feed's own title).
    title: str | None = None
    # How much this source counts in the ranking of stories (1 = neutral, 0 = never first).
    weight: Annotated[float, Field(ge=0, le=10)] = 1.0


class SectionRule(_Section):
    """A section a story falls into by its words when its feed has none (first match wins)."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    keywords: list[Annotated[str, Field(min_length=1)]] = []


class CollectSection(_Section):
    every_minutes: Annotated[int, Field(ge=1)] = 30
    timeout_seconds: Annotated[float, Field(gt=0)] = 20
    max_bytes: Annotated[int, Field(ge=1024)] = 10_000_000
    concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    # New articles without a summary or image: read them from the article's page (OpenGraph,
    # JSON-LD), fetched once with the limits above, at most this many pages per feed and run.
    enrich: bool = False
    enrich_max_per_feed: Annotated[int, Field(ge=1, le=100)] = 10


class DigestSection(_Section):
    schedule: str = "mon 08:00"
    max_articles: Annotated[int, Field(ge=1)] = 12
    min_articles: Annotated[int, Field(ge=0)] = 3
    auto_send: bool = False
    subject: str = "{name} n°{number}"
    # A "Levées de fonds de la semaine" block listing the funding rounds.
    funding: bool = False

    @field_validator("schedule")
    @classmethod
    def _weekly(cls, value: str) -> str:
        if not _SCHEDULE.match(value.strip().lower()):
            raise ValueError(f"{value!r} is not a weekday and a time like 'mon 08:00'")
        return value.strip().lower()


class FileEmailSection(_Section):
    dir: str = "outbox"


class SmtpEmailSection(_Section):
    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    timeout_seconds: Annotated[float, Field(gt=0)] = 30
    connections: Annotated[int, Field(ge=1, le=32)] = 1  # parallel connections, each reused


class SendgridEmailSection(_Section):
    host: str = "https://api.sendgrid.com"
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 1000
    webhook_public_key: str = ""
    timeout_seconds: Annotated[float, Field(gt=0)] = 30


class EmailSection(_Section):
    provider: Literal["file", "smtp", "sendgrid", "memory"] = "file"
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    # An address offered as List-Unsubscribe's mailto: alternative ("" = the https link only).
    unsubscribe_mailto: str = ""
    file: FileEmailSection = FileEmailSection()
    smtp: SmtpEmailSection = SmtpEmailSection()
    sendgrid: SendgridEmailSection = SendgridEmailSection()

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _mailto(cls, value: str) -> str:
        """`unsub@example.org` or `mailto:unsub@example.org`, kept as the bare address."""
        address = value.strip()
        if address[:7].lower() == "mailto:":
            address = address[7:]
        if address and not _MAIL_ADDRESS.match(address):
            raise ValueError(
                "must be an ASCII email address such as unsubscribe@example.org, or the same "
                "as a mailto: URI without parameters (the subject is added per reader)"
            )
        return address


class SubscribeSection(_Section):
    """Sign-up rules: double opt-in timing, address policy, rate limits of POST /subscribe."""

    confirm_days: Annotated[int, Field(ge=1, le=60)] = 7  # confirmation links expire after
    pending_days: Annotated[int, Field(ge=1, le=365)] = 14  # never-confirmed sign-ups purged after
    resend_minutes: Annotated[int, Field(ge=1, le=1440)] = 5  # at most one confirmation per
    refuse_role_addresses: bool = False  # contact@, info@, postmaster@ ...
    refuse_disposable: bool = False  # throw-away mailbox domains
    disposable_domains: list[str] = []  # added to the built-in list
    ip_per_minute: Annotated[float, Field(ge=0)] = 20  # 0 = no limit
    ip_burst: Annotated[int, Field(ge=1)] = 20
    address_per_hour: Annotated[float, Field(ge=0)] = 10  # 0 = no limit
    address_burst: Annotated[int, Field(ge=1)] = 3

    @field_validator("disposable_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        for domain in domains:
            if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", domain.lower()):
                raise ValueError(f"{domain!r} is not a domain name like mailinator.com")
        return [domain.lower() for domain in domains]

    @model_validator(mode="after")
    def _purge_after_expiry(self) -> SubscribeSection:
        return self.at_least("pending_days", "confirm_days", ": a link would outlive its sign-up")


_ORIGIN = re.compile(r"^https?://[^/\s:]+(:\d{1,5})?$")


class WebSection(_Section):
    cors_origins: list[str] = []  # sites whose pages may POST /subscribe from a script
    max_body_bytes: Annotated[int, Field(ge=1024, le=1_000_000)] = 8192  # forms; 413 above

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin like https://www.example.org (no path, no '*')"
                )
        return [origin.lower() for origin in origins]

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    # Reverse proxies (IPs or CIDR networks) whose X-Forwarded-For is believed; none by default,
    # so a client cannot choose the address its rate limit and consent record are kept under.
    forwarded_allow_ips: list[str] = []

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _networks(cls, entries: list[str]) -> list[str]:
        networks = []
        for entry in entries:
            try:
                networks.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network like 10.0.0.5 or 10.0.0.0/24"
                ) from None
        return networks


class DeskSection(_Section):
    """The editors' desk: how long a login lasts, how many failed logins are tolerated.

    Failures count per (name, client address), so nobody can lock an editor out from elsewhere,
    and per client address over all names, so one client cannot try name after name."""

    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12
    login_attempts: Annotated[int, Field(ge=1, le=100)] = 5  # per name and client address
    login_attempts_per_client: Annotated[int, Field(ge=1, le=1000)] = 20  # any names
    login_window_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 15

    @model_validator(mode="after")
    def _client_limit_is_looser(self) -> DeskSection:
        return self.at_least("login_attempts_per_client", "login_attempts")


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_FONT_STACK = re.compile(r"^[A-Za-z0-9 ,'\"-]+$")


class ThemeSection(_Section):
    """Colours, logo and fonts of the emails and the public pages: restyle without editing
    templates."""

    brand_color: str = "#c8102e"
    text_color: str = "#1f2328"
    muted_color: str = "#5b6470"
    background_color: str = "#f2f3f5"
    surface_color: str = "#ffffff"
    dark_brand_color: str = "#ff7a8c"
    dark_text_color: str = "#e8eaed"
    dark_background_color: str = "#111418"
    dark_surface_color: str = "#1c2026"
    logo_url: str = ""
    logo_width: Annotated[int, Field(ge=16, le=600)] = 160
    # Unset: no height attribute, so Outlook keeps the logo's own ratio at `logo_width`.
    logo_height: Annotated[int, Field(ge=16, le=300)] | None = None
    font_family: str = "Helvetica, Arial, sans-serif"
    heading_font_family: str = "Georgia, 'Times New Roman', Times, serif"

    @field_validator(
        "brand_color",
        "text_color",
        "muted_color",
        "background_color",
        "surface_color",
        "dark_brand_color",
        "dark_text_color",
        "dark_background_color",
        "dark_surface_color",
    )
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError("must be a colour written #rrggbb")
        return value.lower()

    @field_validator("font_family", "heading_font_family")
    @classmethod
    def _font_stack(cls, value: str) -> str:
        if not _FONT_STACK.match(value):
            raise ValueError("must be a comma-separated font list (letters, digits, quotes)")
        return value

    @field_validator("logo_url")
    @classmethod
    def _absolute_logo(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+\S*$", value):
            raise ValueError("must be empty or an absolute http(s) URL")
        return value


class LinksSection(_Section):
    """UTM parameters added to article links (never to unsubscribe or web-version links)."""

    track_clicks: bool = True  # article links go through {base_url}/c/{token}
    utm: bool = True
    utm_source: str = "newsletter"
    utm_medium: str = "email"
    utm_campaign: str = "{name}-{number}"

    @field_validator("utm_campaign")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            value.format(name="x", number=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only use the fields {name} and {number}") from None
        return value


class Settings(_Section):
    newsletter: NewsletterSection = NewsletterSection()
    sender: SenderSection = SenderSection()
    database: DatabaseSection = DatabaseSection()
    feeds: list[FeedSection] = []
    sections: list[SectionRule] = []
    collect: CollectSection = CollectSection()
    digest: DigestSection = DigestSection()
    email: EmailSection = EmailSection()
    subscribe: SubscribeSection = SubscribeSection()
    web: WebSection = WebSection()
    desk: DeskSection = DeskSection()
    theme: ThemeSection = ThemeSection()
    links: LinksSection = LinksSection()

    @field_validator("feeds")
    @classmethod
    def _unique_names(cls, feeds: list[FeedSection]) -> list[FeedSection]:
        seen: set[str] = set()
        for feed in feeds:
            if feed.name in seen:
                raise ValueError(f"two feeds are named {feed.name!r}")
            seen.add(feed.name)
        return feeds

    @field_validator("sections")
    @classmethod
    def _unique_sections(cls, sections: list[SectionRule]) -> list[SectionRule]:
        names = [section.name for section in sections]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two sections are named {name!r}")
        return sections

    def section_names(self) -> list[str]:
        """Every section of the newsletter, in order: the feeds' own, then the keyword rules'."""
        names: list[str] = []
        for name in [feed.section for feed in self.feeds] + [s.name for s in self.sections]:
            if name and name not in names:
                names.append(name)
        return names


class Secrets(BaseModel):
    model_config = ConfigDict(frozen=True)

    smtp_password: str = ""
    sendgrid_api_key: str = ""
    sendgrid_webhook_public_key: str = ""
    secret_key: str = ""
