"""Logs: one line per event, JSON on request."""

from __future__ import annotations

import json
import logging

import pytest

from newsletter.runtime.logs import configure_logging


def test_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """--log-json: each event is one JSON object on one line, errors included."""
    configure_logging(json_lines=True)
    log = logging.getLogger("newsletter.test")
    log.info("drafted issue %s", 3)
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("failed")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["level"], first["logger"], first["message"]) == (
        "info",
        "newsletter.test",
        "drafted issue 3",
    )
    assert second["level"] == "error" and "ValueError: boom" in second["error"]
    logging.getLogger().handlers.clear()


def test_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --log-json: one readable line per event."""
    configure_logging(json_lines=False)
    logging.getLogger("newsletter.test").warning("feed %s failed", "maddyness")
    line = capsys.readouterr().err.strip()
    assert "\n" not in line
    assert line.endswith("WARNING newsletter.test: feed maddyness failed")
    logging.getLogger().handlers.clear()
