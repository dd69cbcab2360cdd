"""A real aiosmtpd server on loopback receives an issue through the smtp provider."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliver import make_provider, sender_of
from newsletter.deliver.smtp import SmtpProvider
from newsletter.domain.errors import PermanentProviderError
from newsletter.domain.model import IssueState
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.delivery_helpers import add_subscribers, fake_render, make_issue, with_provider
from tests.mail_checks import (
    ATTACK_NAMES,
    PRODUCTION_BASE_URL,
    UNSUBSCRIBE_MAILTO,
    assert_one_safe_copy,
    assert_plain_list_headers,
    assert_safe_display_name,
    header_lines,
    production_like,
)
from tests.smtp_server import Recorder, smtp_controller

pytest.importorskip("aiosmtpd.smtp")
from aiosmtpd.smtp import AuthResult, LoginPassword

pytestmark = pytest.mark.integration


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    controller = smtp_controller(handler)
    yield handler, controller.port
    controller.stop()


def test_issue_arrives_over_one_reused_connection(
    services: Services, smtp_server: tuple[Recorder, int]
) -> None:
    """Five copies in two batches go over a single SMTP connection, each complete and decodable."""
    handler, port = smtp_server
    provider = SmtpProvider(
        sender=sender_of(services.config), host="127.0.0.1", port=port, timeout=10, batch_size=3
    )
    services._provider = provider
    issue_id = make_issue(services)
    add_subscribers(services, 4, names=["Zoé Lefèvre", "Amélie", None, "Jérôme"])
    handler.refuse = {"u1@example.org"}
    add_subscribers(services, 1, start=4)
    counts = send_issue(services, issue_id, render=fake_render)
    assert (counts.state, counts.sent, counts.failed) == (IssueState.SENT, 4, 1)
    assert provider.connections_opened == 1
    assert len({session for session, _, _ in handler.messages}) == 1
    by_rcpt = {rcpts[0]: raw for _, rcpts, raw in handler.messages}
    assert sorted(by_rcpt) == [f"u{i}@example.org" for i in (0, 2, 3, 4)]
    parsed = email.message_from_bytes(by_rcpt["u0@example.org"], policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    assert parsed["Subject"] == "Les licornes françaises à l'honneur, Zoé Lefèvre !"
    assert str(parsed["To"]) == "Zoé Lefèvre <u0@example.org>"
    assert parsed["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = parsed.get_body(("html",))
    text = parsed.get_body(("plain",))
    assert html is not None and "Bonjour Zoé Lefèvre" in html.get_content()
    assert text is not None and "Se désinscrire : https://news.example.org/" in text.get_content()
    failed = services.store.deliveries.status(issue_id, IssueState.SENT)
    assert failed.failed == 1


def test_server_gone_defers_then_resumes(services: Services) -> None:
    """No server: the batch is retried, then released to pending with a clear error."""
    provider = SmtpProvider(sender=sender_of(services.config), host="127.0.0.1", port=1, timeout=2)
    services._provider = provider
    issue_id = make_issue(services)
    add_subscribers(services, 2)
    from newsletter.deliver.send import RetryPolicy
    from newsletter.domain.errors import TransientProviderError

    with pytest.raises(TransientProviderError, match="again to resume") as gave_up:
        send_issue(
            services,
            issue_id,
            render=fake_render,
            retry=RetryPolicy(attempts=2),
            sleep=lambda _s: None,
        )
    assert gave_up.value.provider == "smtp"
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.pending, counts.sent, counts.uncertain) == (2, 0, 0)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if not shutil.which("openssl"):
            pytest.skip("neither cryptography nor openssl can make a test certificate")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        return cert, key
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"news",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("password", ["s3cret", "wrong"])
def test_starttls_and_auth(
    services: Services, make_config: Any, tmp_path: Path, password: str
) -> None:
    """STARTTLS then AUTH with NEWSLETTER_SMTP_PASSWORD; a refused login stops the send."""
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    handler = Recorder()
    controller = smtp_controller(
        handler,
        tls_context=server_context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    try:
        port = controller.port
        config = make_config(
            extra=f"""
[email.smtp]
host = "127.0.0.1"
port = {port}
starttls = true
username = "news"
timeout_seconds = 10
""",
            environ={"NEWSLETTER_SMTP_PASSWORD": password},
        )
        provider = make_provider(with_provider(config, "smtp"))
        assert isinstance(provider, SmtpProvider)
        provider.ssl_context = ssl.create_default_context(cafile=str(cert))
        services._provider = provider
        issue_id = make_issue(services)
        add_subscribers(services, 2)
        if password == "wrong":
            with pytest.raises(PermanentProviderError, match="NEWSLETTER_SMTP_PASSWORD") as refused:
                send_issue(services, issue_id, render=fake_render)
            assert (refused.value.provider, refused.value.status) == ("smtp", 535)
            assert handler.messages == []
            return
        counts = send_issue(services, issue_id, render=fake_render)
        assert counts.sent == 2
        assert len(handler.messages) == 2
    finally:
        controller.stop()


def test_headers_on_the_wire_are_plain_and_names_cannot_inject(
    services: Services, smtp_server: tuple[Recorder, int]
) -> None:
    """The bytes the SMTP server receives: List-Unsubscribe (production-length link and token,
    plus the mailto) unencoded and folded only between URIs, List-Id and Feedback-ID; readers
    named by an attacker get one To each and nothing injected."""
    handler, port = smtp_server
    services.config = production_like(services.config)
    provider = SmtpProvider(
        sender=sender_of(services.config), host="127.0.0.1", port=port, timeout=10
    )
    services._provider = provider
    issue_id = make_issue(services)
    add_subscribers(services, len(ATTACK_NAMES), names=list(ATTACK_NAMES.values()))

    counts = send_issue(services, issue_id, render=fake_render)

    assert (counts.sent, counts.failed) == (len(ATTACK_NAMES), 0)
    for _, rcpts, raw in handler.messages:
        message = assert_one_safe_copy(raw)
        (to,) = message["To"].addresses
        assert [to.addr_spec] == rcpts
        assert_safe_display_name(to.display_name)
        values = assert_plain_list_headers(raw)
        link, mailto = values["List-Unsubscribe"].split(", ")
        token = link[1:-1].rpartition("/")[2]
        assert link == f"<{PRODUCTION_BASE_URL}/unsubscribe/{token}>"
        assert mailto == f"<mailto:{UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{token}>"
        assert header_lines(raw, "List-Unsubscribe")[0][1].startswith(b" <mailto:")
        assert values["List-Id"] == "MaddyNews <maddynews.example.org>"
        assert values["Feedback-ID"] == f"issue-{issue_id}:maddynews:newsletter:example-org"
