"""A real aiosmtpd server on loopback for the SMTP tests: a recording handler, and a
controller started on a free port."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import free_port

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")


@dataclass
class Recorder:
    """An aiosmtpd handler keeping every message with the session it came on, counting RSETs
    by session, and refusing the addresses in `refuse`."""

    messages: list[tuple[int, list[str], bytes]] = field(default_factory=list)
    resets: Counter[int] = field(default_factory=Counter)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        self.resets[id(session)] += 1
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((id(session), list(envelope.rcpt_tos), envelope.original_content))
        return "250 queued"


def smtp_controller(handler: object, port: int = 0, **options: Any) -> Any:
    """An aiosmtpd controller for `handler` on loopback at `port` (a free one when 0),
    started; `options` go to aiosmtpd (TLS, authentication)."""
    controller = aiosmtpd_controller.Controller(
        handler, hostname="127.0.0.1", port=port or free_port(), **options
    )
    controller.start()
    return controller
