"""Delivery: the provider interface, the providers, and the ledger-driven send loop."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from newsletter.deliver.base import Provider, Sender
from newsletter.domain.errors import ConfigError
from newsletter.domain.settings import Secrets, Settings


class SenderConfig(Protocol):
    """What the sender's identity is read from (the wiring passes its `Config`)."""

    @property
    def settings(self) -> Settings: ...


class ProviderConfig(SenderConfig, Protocol):
    """What a provider is built from: the settings, the secrets, the file outbox's folder, and
    the configuration file errors name."""

    @property
    def path(self) -> Path: ...

    @property
    def secrets(self) -> Secrets: ...

    @property
    def outbox(self) -> Path: ...


def sender_of(config: SenderConfig) -> Sender:
    settings = config.settings
    return Sender(
        email=settings.sender.email,
        name=settings.sender.name,
        base_url=settings.newsletter.base_url,
        newsletter=settings.newsletter.name,
        unsubscribe_mailto=settings.email.unsubscribe_mailto,
    )


def make_provider(config: ProviderConfig) -> Provider:
    """The provider `email.provider` names, built from the configuration and secrets."""
    kind = config.settings.email.provider
    sender = sender_of(config)
    batch_size = config.settings.email.batch_size
    email = config.settings.email
    if kind == "memory":
        from newsletter.deliver.memory import MemoryProvider

        return MemoryProvider(sender=sender, batch_size=batch_size)
    if kind == "file":
        from newsletter.deliver.file import FileProvider

        return FileProvider(sender=sender, outbox=config.outbox, batch_size=batch_size)
    if kind == "smtp":
        from newsletter.deliver.smtp import SmtpProvider

        return SmtpProvider(
            sender=sender,
            host=email.smtp.host,
            port=email.smtp.port,
            starttls=email.smtp.starttls,
            use_ssl=email.smtp.ssl,
            username=email.smtp.username,
            password=config.secrets.smtp_password,
            timeout=email.smtp.timeout_seconds,
            batch_size=batch_size,
            connections=email.smtp.connections,
        )
    if kind == "sendgrid":
        from newsletter.deliver.sendgrid import SendgridProvider

        if not config.secrets.sendgrid_api_key:
            raise ConfigError(
                str(config.path), "email.provider", "sendgrid needs the env SENDGRID_API_KEY"
            )
        return SendgridProvider(
            sender=sender,
            api_key=config.secrets.sendgrid_api_key,
            host=email.sendgrid.host,
            timeout=email.sendgrid.timeout_seconds,
            batch_size=email.sendgrid.batch_size,
        )
    raise ConfigError(str(config.path), "email.provider", f"{kind!r} is not a provider")


__all__ = ["Provider", "Sender", "make_provider", "sender_of"]
