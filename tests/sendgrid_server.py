"""A local SendGrid-compatible Mail Send server on loopback, for tests and bench/send.py.

It validates every POST /v3/mail/send body against the official OpenAPI description
(../shared/sendgrid/tsg_mail_v3.json, $refs resolved) plus the rules the schema cannot say
(at most 1000 personalizations and recipients, no address twice in a request, 30 MB, custom
args as strings), records what it accepts (in memory, and as JSON lines in a file so another
process can read them), answers 202, and injects faults on demand: 429 with Retry-After, 500,
503, slow answers, dropped connections, 400 naming bad addresses, 401.

A request is recorded as accepted BEFORE any delay and answer, as SendGrid would have taken
it: a client killed while waiting, or timing out, has still mailed those recipients.

Run alone: `python tests/sendgrid_server.py --schema PATH [--record FILE] [--delay S]
[--no-validate]` prints the port on stdout and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BYTES = 30 * 1024 * 1024
MAX_RECIPIENTS = 1000
API_KEY = "SG.test-key"
SCHEMA_POINTER = "#/components/requestBodies/PostMailSend/content/application~1json/schema"


@dataclass(frozen=True)
class Fault:
    """What to do instead of a plain 202 for one request.

    kind: "429" | "500" | "503" | "slow" | "drop" | "401"; `seconds` is the Retry-After of a
    429 or the delay of "slow" (the request is accepted, the answer comes late).
    """

    kind: str
    seconds: float = 0.0


@dataclass(frozen=True)
class Accepted:
    addresses: tuple[str, ...]
    delivery_ids: tuple[str, ...]
    body: dict[str, Any] | None


def load_validator(schema_path: Path) -> Any:
    """A jsonschema validator of the Mail Send body, with the OpenAPI $refs resolved."""
    from jsonschema import Draft4Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    document = json.loads(schema_path.read_text(encoding="utf-8"))
    uri = "urn:sendgrid:mail-v3"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(document, default_specification=DRAFT4)
    )
    return Draft4Validator(
        {"$ref": uri + SCHEMA_POINTER}, registry=registry, format_checker=FormatChecker()
    )


def extra_rule_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    """What SendGrid refuses beyond the schema."""
    errors: list[dict[str, str]] = []
    personalizations = body.get("personalizations", [])
    if len(personalizations) > MAX_RECIPIENTS:
        errors.append({"field": "personalizations", "message": "at most 1000 personalizations"})
    seen: set[str] = set()
    total = 0
    for index, personalization in enumerate(personalizations):
        for kind in ("to", "cc", "bcc"):
            for position, recipient in enumerate(personalization.get(kind, [])):
                total += 1
                address = str(recipient.get("email", "")).lower()
                if address in seen:
                    errors.append(
                        {
                            "field": f"personalizations.{index}.{kind}.{position}.email",
                            "message": f"duplicate address {address} in one request",
                        }
                    )
                seen.add(address)
        for key, value in personalization.get("custom_args", {}).items():
            if not isinstance(value, str):
                errors.append(
                    {
                        "field": f"personalizations.{index}.custom_args.{key}",
                        "message": "custom args must be strings",
                    }
                )
        for key, value in personalization.get("headers", {}).items():
            if not isinstance(value, str):
                errors.append(
                    {
                        "field": f"personalizations.{index}.headers.{key}",
                        "message": "header values must be strings",
                    }
                )
        size = len(json.dumps(personalization.get("substitutions", {})).encode())
        if size > 10_000:
            errors.append(
                {"field": f"personalizations.{index}.substitutions", "message": "over 10,000 bytes"}
            )
    if total > MAX_RECIPIENTS:
        errors.append({"field": "personalizations", "message": "at most 1000 recipients"})
    return errors


@dataclass
class SendgridServer:
    schema_path: Path | None
    record_path: Path | None = None
    validate: bool = True
    keep_bodies: bool = True
    remember: bool = True  # keep accepted requests in memory (off for long benchmark runs)
    delay: float = 0.0  # every answer comes this late (the request is accepted first)
    bad_addresses: set[str] = field(default_factory=set)
    faults: deque[Fault] = field(default_factory=deque)
    accepted: list[Accepted] = field(default_factory=list)
    invalid: list[list[dict[str, str]]] = field(default_factory=list)
    requests: int = 0
    accepted_count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        if self.validate and self.schema_path is None:
            raise ValueError("validation needs the schema file")
        self._validator = (
            load_validator(self.schema_path) if self.validate and self.schema_path else None
        )

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> SendgridServer:
        server = self

        class Handler(_Handler):
            sendgrid = server

        # A deep listen queue: concurrent senders must not see refused connections.
        ThreadingHTTPServer.request_queue_size = 128
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def add_faults(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def received(self) -> list[str]:
        """Every address accepted, in order, repeats included."""
        return [address for request in self.accepted for address in request.addresses]

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.requests += 1
            return self.faults.popleft() if self.faults else None

    def _accept(self, body: dict[str, Any]) -> None:
        addresses = tuple(
            str(r["email"]).lower() for p in body["personalizations"] for r in p.get("to", [])
        )
        delivery_ids = tuple(
            str(p.get("custom_args", {}).get("delivery_id", "")) for p in body["personalizations"]
        )
        record = Accepted(addresses, delivery_ids, body if self.keep_bodies else None)
        with self._lock:
            self.accepted_count += 1
            if self.remember:
                self.accepted.append(record)
            if self.record_path is not None:
                with self.record_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps({"addresses": addresses, "ids": delivery_ids}) + "\n")

    def check(self, body: Any) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []
        if self._validator is not None:
            for error in self._validator.iter_errors(body):
                where = ".".join(str(part) for part in error.absolute_path)
                errors.append({"field": where or "body", "message": error.message[:300]})
        if not errors and isinstance(body, dict):
            errors = extra_rule_errors(body)
        return errors

    def bad_recipient_errors(self, body: dict[str, Any]) -> list[dict[str, str]]:
        return [
            {
                "field": f"personalizations.{index}.to.{position}.email",
                "message": "Does not contain a valid address.",
            }
            for index, personalization in enumerate(body["personalizations"])
            for position, recipient in enumerate(personalization.get("to", []))
            if str(recipient.get("email", "")).lower() in self.bad_addresses
        ]


def read_records(path: Path) -> list[dict[str, Any]]:
    """The requests a server (perhaps in another process) recorded in `path`."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class _Handler(BaseHTTPRequestHandler):
    sendgrid: SendgridServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def do_GET(self) -> None:
        """GET /v3/scopes: what `newsletter doctor` asks to prove the key works."""
        if self.path.rstrip("/") != "/v3/scopes":
            self._answer(404, {"errors": [{"message": f"no route {self.path}"}]})
        elif self.headers.get("Authorization") != f"Bearer {API_KEY}":
            self._answer(401, {"errors": [{"message": "The provided authorization is invalid"}]})
        else:
            self._answer(200, {"scopes": ["mail.send", "user.profile.read"]})

    def do_POST(self) -> None:
        server = self.sendgrid
        if self.path.rstrip("/") != "/v3/mail/send":
            self._answer(404, {"errors": [{"message": f"no route {self.path}"}]})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BYTES:
            self._answer(413, {"errors": [{"message": "request over 30 MB"}]})
            return
        raw = self.rfile.read(length)
        fault = server._next_fault()
        if self.headers.get("Authorization") != f"Bearer {API_KEY}" or (
            fault and fault.kind == "401"
        ):
            self._answer(401, {"errors": [{"message": "The provided authorization is invalid"}]})
            return
        if fault and fault.kind in ("429", "500", "503"):
            headers = {}
            if fault.kind == "429":
                headers = {
                    "Retry-After": str(int(fault.seconds)),
                    "X-RateLimit-Reset": str(int(time.time() + fault.seconds)),
                }
            self._answer(int(fault.kind), {"errors": [{"message": "fault injected"}]}, headers)
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._answer(400, {"errors": [{"field": "body", "message": "invalid JSON"}]})
            return
        errors = server.check(body)
        if errors:
            with server._lock:
                server.invalid.append(errors)
            self._answer(400, {"errors": errors})
            return
        bad = server.bad_recipient_errors(body)
        if bad:
            self._answer(400, {"errors": bad})
            return
        server._accept(body)
        if fault and fault.kind == "drop":
            self._drop()
            return
        delay = server.delay + (fault.seconds if fault and fault.kind == "slow" else 0.0)
        if delay:
            time.sleep(delay)
        self._answer(202, None)

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client is gone (killed or timed out)

    def _drop(self) -> None:
        """Close the connection with a reset, without an answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schema", type=Path)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    server = SendgridServer(
        args.schema,
        record_path=args.record,
        validate=not args.no_validate,
        keep_bodies=False,
        remember=False,
        delay=args.delay,
    ).start()
    print(server.url.rsplit(":", 1)[1], flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
