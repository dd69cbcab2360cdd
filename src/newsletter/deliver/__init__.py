"""Delivery: the provider interface, the providers, and the ledger-driven send loop."""

from __future__ import annotations

from newsletter.config import Config
from newsletter.deliver.base import Provider, Sender
from newsletter.errors import ConfigError


def sender_of(config: Config) -> Sender:
    settings = config.settings
    return Sender(
        email=settings.sender.email,
        name=settings.sender.name,
        base_url=settings.newsletter.base_url,
    )


def make_provider(config: Config) -> Provider:
    """The provider `email.provider` names, built from the configuration and secrets."""
    kind = config.settings.email.provider
    sender = sender_of(config)
    batch_size = config.settings.email.batch_size
    if kind == "memory":
        from newsletter.deliver.memory import MemoryProvider

        return MemoryProvider(sender=sender, batch_size=batch_size)
    raise ConfigError(str(config.path), "email.provider", f"{kind!r} is not available yet")


__all__ = ["Provider", "Sender", "make_provider", "sender_of"]
