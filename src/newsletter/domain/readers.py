"""The readers' types: subscribers and the record of their consent. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SubscriberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str | None
    status: SubscriberStatus
    created_at: datetime
    confirmed_at: datetime | None = None
    sections: tuple[str, ...] = ()  # the sections the reader chose; (): every section


class ConsentMethod(StrEnum):
    SIGN_UP = "sign-up"  # the person filled the form (double opt-in follows)
    IMPORT = "import"  # a list was imported; whoever imported it vouches, or --pending asks
    EDITOR = "editor"  # an editor added the address (desk or `subscribers add`)


@dataclass(frozen=True)
class ConsentRecord:
    """How a subscriber's consent was obtained: kept with the row as proof, shown on export."""

    method: ConsentMethod
    recorded_at: datetime  # when this was recorded: the request, the import, the editor's add
    given_at: datetime | None = None  # when the person consented, when known
    source: str | None = None  # the form (web-form, web-json, desk, cli) or the import's column
    ip: str | None = None
    text: str | None = None  # the version of the consent text the person saw
    by: str | None = None  # the editor, or the OS user who ran the command
    file: str | None = None  # the imported file's name
