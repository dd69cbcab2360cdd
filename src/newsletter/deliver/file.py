"""A provider that writes one .eml file per message into a folder (the default: no network).

Each file is written under a temporary name and then linked into place, so a reader never sees
half a message, and a name that exists already is never overwritten (a rerun adds, not replaces).
A copy's file is there once it went, and only then: what a killed send left in flight is
settled by looking (`delivered`).
Messages carry addresses and personal links: files are 0600 in a folder created 0700.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from newsletter.deliver.base import Sender
from newsletter.deliver.copies import CopyTemplate, template_for, wire_copies
from newsletter.domain.delivery import BatchResult, Recipient, RenderedMessage
from newsletter.domain.errors import PermanentProviderError
from newsletter.store.private_files import create_private, private_dir

# A copy's file name (`_name`), linked into place whole; temporary files start with a dot.
_COPY_NAME = re.compile(r"^issue(\d+)-d(\d+)-\d{8}T\d{12}(?:-\d+)?\.eml$")


@dataclass
class FileProvider:
    sender: Sender
    outbox: Path
    batch_size: int = 100
    name: str = "file"
    _template: CopyTemplate | None = field(default=None, repr=False)

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        try:
            private_dir(self.outbox)
        except OSError as exc:
            raise PermanentProviderError(
                f"cannot create the outbox {self.outbox}: {exc}", provider=self.name
            ) from None
        failed: dict[int, str] = {}
        now = datetime.now(UTC)
        self._template = template_for(self._template, message, self.sender)
        for _, recipient, data in wire_copies(self._template, recipients, now, failed):
            try:
                self._write(self._name(message, recipient, now), data)
            except OSError as exc:
                # A full disk or a read-only folder stops the send; nothing of this copy exists.
                raise PermanentProviderError(
                    f"cannot write to {self.outbox}: {exc}", provider=self.name
                ) from None
        return BatchResult(failed=failed)

    def check(self) -> str:
        """The outbox exists (or can be made) and accepts files."""
        try:
            private_dir(self.outbox)
            probe = self.outbox / f".check.{secrets.token_hex(4)}.tmp"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise PermanentProviderError(
                f"cannot write to the outbox {self.outbox}: {exc}", provider=self.name
            ) from None
        return f"files in {self.outbox}"

    def close(self) -> None:
        pass

    def delivered(self, issue_id: int, delivery_ids: Collection[int]) -> set[int]:
        """The copies among `delivery_ids` of issue `issue_id` whose file is in the outbox."""
        wanted = set(delivery_ids)
        try:
            names = os.listdir(self.outbox)
        except FileNotFoundError:
            return set()
        found = set()
        for name in names:
            match = _COPY_NAME.match(name)
            if match and int(match[1]) == issue_id and int(match[2]) in wanted:
                found.add(int(match[2]))
        return found

    def _name(self, message: RenderedMessage, recipient: Recipient, now: datetime) -> str:
        issue = f"issue{message.issue_id}" if message.issue_id is not None else "test"
        stamp = now.strftime("%Y%m%dT%H%M%S%f")
        return f"{issue}-d{recipient.delivery_id}-{stamp}"

    def _write(self, stem: str, data: bytes) -> Path:
        temporary = self.outbox / f".{stem}.{secrets.token_hex(4)}.tmp"
        try:
            with os.fdopen(create_private(temporary, exclusive=True), "wb") as handle:
                handle.write(data)
            for attempt in range(100):
                target = self.outbox / (f"{stem}.eml" if attempt == 0 else f"{stem}-{attempt}.eml")
                try:
                    os.link(temporary, target)  # fails if the name exists: never overwrite
                    return target
                except FileExistsError:
                    continue
            raise OSError(f"no free file name for {stem}")
        finally:
            temporary.unlink(missing_ok=True)
