"""The access log line: fields, JSON shape, prompts only when asked, and its stdout handler."""

from __future__ import annotations

import asyncio
import io
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


def test_without_an_operator_handler_lines_are_buffered_bare_json_on_stdout() -> None:
    stream = io.BytesIO()
    logger = logging.getLogger("tests.accesslog.direct")
    log = AccessLog(logger, stream=stream)
    log.ensure_handler()
    telemetry = Telemetry(TelemetryConfig(metrics=False), TelemetryEnvironment())
    telemetry.access_log = log
    for rid in ("r1", "r2"):
        telemetry.finish(telemetry.start(rid))
    # No event loop here: each line is written at once; in the app they are flushed within 50 ms.
    lines = stream.getvalue().splitlines()
    assert [msgspec.json.decode(line)["request_id"] for line in lines] == ["r1", "r2"]
    assert logger.handlers == []
    log.release_handler()


async def test_buffered_lines_are_flushed_by_the_timer_and_at_release() -> None:
    stream = io.BytesIO()
    log = AccessLog(logging.getLogger("tests.accesslog.timer"), stream=stream)
    log.ensure_handler()
    telemetry = Telemetry(TelemetryConfig(metrics=False), TelemetryEnvironment())
    telemetry.access_log = log
    telemetry.finish(telemetry.start("t1"))
    assert stream.getvalue() == b""
    await asyncio.sleep(0.1)
    assert b'"request_id":"t1"' in stream.getvalue()
    telemetry.finish(telemetry.start("t2"))
    log.release_handler()
    assert stream.getvalue().count(b"\n") == 2


def test_an_operator_handler_receives_the_lines_instead() -> None:
    logger = logging.getLogger("tests.accesslog.operator")
    logger.setLevel(logging.INFO)
    handler = _Lines()
    logger.addHandler(handler)
    stream = io.BytesIO()
    log = AccessLog(logger, stream=stream)
    log.ensure_handler()
    telemetry = Telemetry(TelemetryConfig(metrics=False), TelemetryEnvironment())
    telemetry.access_log = log
    telemetry.finish(telemetry.start("o1"))
    assert [msgspec.json.decode(line)["request_id"] for line in handler.lines] == ["o1"]
    assert stream.getvalue() == b""
    logger.removeHandler(handler)
