"""`newsletter doctor`: checks that the deployment can work, one named result per check."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from newsletter.domain.errors import NewsletterError
from newsletter.runtime import wiring
from newsletter.runtime.config import Config

MAX_CLOCK_SKEW_SECONDS = 30


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(config: Config) -> list[Check]:
    results = [Check("config", True, str(config.path))]
    services = wiring.build(config)
    try:
        results.append(_check("database", lambda: _database(services)))
        results.append(_check("migrations", lambda: _migrations(services)))
        results.append(_check("templates", lambda: _templates(services)))
        results.append(_check("provider", lambda: _provider(services)))
        results.append(_check("secret key", lambda: _secret(config)))
        results.append(_check("base_url", lambda: check_base_url(config)))
        results.append(_check("clock", lambda: _clock(services)))
    finally:
        services.close()
    return results


def _check(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except (NewsletterError, OSError, RuntimeError, ValueError) as exc:
        return Check(name, False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except Exception as exc:  # a doctor reports every failure instead of crashing on it
        return Check(name, False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def _database(services: wiring.Services) -> str:
    services.store.ping()
    return services.store.engine.dialect.name


def _migrations(services: wiring.Services) -> str:
    if not services.store.is_current():
        raise RuntimeError("database not at the latest migration: run `newsletter init`")
    return "up to date"


def _templates(services: wiring.Services) -> str:
    """Every email rendered with sample values; the detail says where the templates come from."""
    from newsletter.render.checkup import check_every_email

    failed = [
        f"{check.email}: {check.error}"
        for check in check_every_email(services.renderer, services.clock())
        if check.error
    ]
    if failed:
        raise RuntimeError("; ".join(failed))
    folder = services.config.templates_dir
    if not folder.is_dir():
        return "every email renders, with the shipped templates"
    return f"every email renders, with {folder} over the shipped templates"


def _provider(services: wiring.Services) -> str:
    return services.provider.check()


def _clock(services: wiring.Services) -> str:
    """The time zone exists and this machine's clock agrees with the database server's."""
    zone = services.config.settings.newsletter.timezone
    now = services.clock()
    if services.store.is_postgres:
        skew = abs((services.store.server_time() - now).total_seconds())
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise RuntimeError(f"this clock is {skew:.0f} s off the database server's")
    local = now.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M %Z} ({zone})"


def check_base_url(config: Config) -> str:
    """https, or http on this machine only: one-click unsubscribe (RFC 8058) needs an https URI,
    and confirm and unsubscribe links must not travel in clear text."""
    url = config.settings.newsletter.base_url
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    if is_loopback_host(parts.hostname or ""):
        return f"{url}: http on this machine only (development); readers need https"
    raise RuntimeError(
        f"[newsletter] base_url {url} is not https: RFC 8058 one-click unsubscribe needs an "
        "https URI in List-Unsubscribe, and links with tokens must not travel in clear text "
        "(http is for localhost only)"
    )


def is_loopback_host(host: str) -> bool:
    """localhost (and *.localhost, RFC 6761) or a loopback address."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _secret(config: Config) -> str:
    if config.secrets.secret_key:
        return "from NEWSLETTER_SECRET_KEY"
    return f"generated in {config.data_dir / 'secret_key'}"
