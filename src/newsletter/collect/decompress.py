"""Streaming decoders for a response body (gzip, deflate, brotli) that never inflate past a cap.

Pure computation on the chunks they are given: a decompression bomb stops at the cap plus one
byte, whatever its ratio, with a FetchError.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from newsletter.domain.errors import FetchError


class _Decoder(Protocol):
    def decode(self, chunk: bytes, room: int) -> bytes: ...
    def flush(self, room: int) -> bytes: ...


def _too_big(max_bytes: int) -> FetchError:
    return FetchError(f"response larger than {max_bytes} bytes after decompression")


class _Identity:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def decode(self, chunk: bytes, room: int) -> bytes:
        return chunk

    def flush(self, room: int) -> bytes:
        return b""


class _Zlib:
    """gzip or deflate; never inflates more than the room left plus one byte."""

    def __init__(self, max_bytes: int, wbits: int) -> None:
        self.max_bytes = max_bytes
        self.wbits = wbits
        self.inflater = zlib.decompressobj(wbits)
        self.started = False

    def decode(self, chunk: bytes, room: int) -> bytes:
        try:
            return self._inflate(chunk, room)
        except zlib.error as exc:
            if self.wbits == zlib.MAX_WBITS and not self.started:
                # "deflate" is raw deflate on some servers, zlib-wrapped on others.
                self.wbits = -zlib.MAX_WBITS
                self.inflater = zlib.decompressobj(self.wbits)
                return self.decode(chunk, room)
            raise FetchError(f"corrupt compressed response: {exc}") from None

    def _inflate(self, data: bytes, room: int) -> bytes:
        out = [self.inflater.decompress(data, room + 1)]
        size = len(out[0])
        while self.inflater.unconsumed_tail and size <= room:
            more = self.inflater.decompress(self.inflater.unconsumed_tail, room - size + 1)
            if not more:
                break
            out.append(more)
            size += len(more)
        self.started = True
        if size > room:
            raise _too_big(self.max_bytes)
        return b"".join(out)

    def flush(self, room: int) -> bytes:
        tail = self.inflater.flush()
        if len(tail) > room:
            raise _too_big(self.max_bytes)
        return tail


class _Brotli:
    def __init__(self, max_bytes: int) -> None:
        import brotli

        self.max_bytes = max_bytes
        self.error = brotli.error
        self.decompressor = brotli.Decompressor()

    def decode(self, chunk: bytes, room: int) -> bytes:
        try:
            out = [self.decompressor.process(chunk, output_buffer_limit=room + 1)]
            size = len(out[0])
            while size <= room and not self.decompressor.can_accept_more_data():
                more = self.decompressor.process(b"", output_buffer_limit=room - size + 1)
                if not more:
                    break
                out.append(more)
                size += len(more)
        except self.error as exc:
            raise FetchError(f"corrupt compressed response: {exc}") from None
        if size > room:
            raise _too_big(self.max_bytes)
        return b"".join(out)

    def flush(self, room: int) -> bytes:
        return b""


def decoder_for(content_encoding: str, max_bytes: int) -> _Decoder:
    """The decoder for a Content-Encoding; FetchError for one we do not read."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return _Identity(max_bytes)
    if len(codings) > 1:
        raise FetchError(f"unsupported Content-Encoding: {content_encoding}")
    coding = codings[0]
    if coding in {"gzip", "x-gzip"}:
        return _Zlib(max_bytes, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Zlib(max_bytes, zlib.MAX_WBITS)
    if coding == "br":
        return _Brotli(max_bytes)
    raise FetchError(f"unsupported Content-Encoding: {content_encoding}")
