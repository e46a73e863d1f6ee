"""The access log line: fields, JSON shape, prompts only when asked, and its stdout handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from proxy.settings import TelemetryEnvironment
from proxy.telemetry import AccessLog, Telemetry
from schemas.chat import ChatMessage
from schemas.telemetry import TelemetryConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from proxy.routing.attempts import AttemptRecord


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_line_fields(make_record: Callable[..., AttemptRecord]) -> None:
    logger = logging.getLogger("tests.accesslog.fields")
    logger.setLevel(logging.INFO)
    handler = _Lines()
    logger.addHandler(handler)
    log = AccessLog(logger)
    telemetry = Telemetry(TelemetryConfig(metrics=False), TelemetryEnvironment())
    telemetry.access_log = log
    rt = telemetry.start("rid-1")
    rt.identify("acme", "k1")
    rt.model, rt.stream = "m", True
    rt.records = [make_record(1, "error"), make_record(2, "ok", alias="b", provider="claude", model="haiku")]
    rt.charge(10, 20, 345)
    rt.reserved_micro_usd = 900
    rt.verdict("output", "pii", "redact", "EMAIL_ADDRESS")
    telemetry.note_prompt(rt, [ChatMessage(role="user", content="private words")])
    telemetry.finish(rt)
    (line,) = handler.lines
    data = msgspec.json.decode(line)
    assert data["request_id"] == "rid-1"
    assert (data["tenant"], data["key_id"], data["model"]) == ("acme", "k1", "m")
    assert data["deployment"] == "claude/haiku"
    assert data["fallback"] is True
    assert data["attempts"] == 2
    assert (data["input_tokens"], data["output_tokens"], data["cost_micro_usd"]) == (10, 20, 345)
    assert data["reserved_micro_usd"] == 900
    assert data["guard"] == ["output:pii:EMAIL_ADDRESS:redact"]
    assert data["status"] == 200
    assert "prompt" not in data
    assert "private words" not in line


def test_prompts_only_with_log_prompts() -> None:
    telemetry = Telemetry(TelemetryConfig(log_prompts=True, prompt_log_chars=5, metrics=False), TelemetryEnvironment())
    rt = telemetry.start("r")
    telemetry.note_prompt(rt, [ChatMessage(role="user", content="abcdefgh")])
    assert rt.prompt == "abcde"
    assert telemetry.access_log is not None
    assert telemetry.access_log.record(rt).prompt == "abcde"


def test_stdout_handler_is_added_once_and_removed() -> None:
    logger = logging.getLogger("tests.accesslog.handler")
    log = AccessLog(logger)
    log.ensure_handler()
    assert len(logger.handlers) == 1
    assert logger.propagate is False
    AccessLog(logger).ensure_handler()  # a second app sees the handler and leaves it alone
    assert len(logger.handlers) == 1
    log.release_handler()
    assert logger.handlers == []
    assert logger.propagate is True
