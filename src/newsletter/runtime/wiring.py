"""Wires configuration into services. The only module that knows every other one."""

from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from newsletter.domain.clock import Clock, utc_now
from newsletter.runtime.config import Config
from newsletter.store import Store
from newsletter.store.private_files import create_private, private_dir

if TYPE_CHECKING:
    from newsletter.curate.stories import Story
    from newsletter.deliver import Provider
    from newsletter.domain.tokens import TokenSigner
    from newsletter.render.renderer import Renderer

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """The last value computed and its key, shared by the threads of one process: a read with
    the same key gets that value, another key computes (once at a time) and keeps the new."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[K, V] | None = None

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if self._last is None or self._last[0] != key:
                self._last = (key, compute())
            return self._last[1]


def _make_provider(config: Config) -> Provider:
    """The configured provider; the delivery package is imported only by what sends."""
    from newsletter.deliver import make_provider as make

    return make(config)


@dataclass
class Services:
    """What commands, routes and jobs work with. Built by `build`, closed by `close`."""

    config: Config
    store: Store
    clock: Clock = utc_now
    provider_factory: Callable[[Config], Provider] = _make_provider
    # Set on shutdown: long loops (a send) finish the batch in flight, then return.
    stopping: threading.Event = field(default_factory=threading.Event)
    _provider: Provider | None = field(default=None, repr=False)
    _renderer: Renderer | None = field(default=None, repr=False)

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            self._provider = self.provider_factory(self.config)
        return self._provider

    @property
    def renderer(self) -> Renderer:
        """The one email renderer, built on first use (commands that never render skip
        premailer) and again only if `config` was replaced, as it renders with its settings."""
        if self._renderer is None or self._renderer.config is not self.config:
            from newsletter.render.renderer import Renderer

            self._renderer = Renderer(self.config)
        return self._renderer

    @functools.cached_property
    def signer(self) -> TokenSigner:
        from newsletter.domain.tokens import TokenSigner

        return TokenSigner(secret_key(self.config).encode())

    @functools.cached_property
    def inbox(self) -> Memo[tuple[object, ...], list[Story]]:
        """The inbox's grouped, ranked stories (runtime/curation.py keys and fills it)."""
        return Memo()

    def close(self) -> None:
        if self._provider is not None:
            self._provider.close()
        self.store.close()


def build(config: Config, clock: Clock = utc_now, provider: Provider | None = None) -> Services:
    store = Store.from_url(config.database_url)
    return Services(config=config, store=store, clock=clock, _provider=provider)


def secret_key(config: Config) -> str:
    """NEWSLETTER_SECRET_KEY, else a key generated once into the data folder."""
    if config.secrets.secret_key:
        return config.secrets.secret_key
    path = config.data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(32)
    try:
        _write_private(path, key)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    return key


def _write_private(path: Path, content: str) -> None:
    private_dir(path.parent)
    with os.fdopen(create_private(path, exclusive=True), "w") as handle:
        handle.write(content + "\n")
