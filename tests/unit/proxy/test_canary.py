"""The canary the output guards plant: random, reused within its lifetime, replaced after it, caught when leaked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.verdict import Block
from proxy import guard_stages
from proxy.guard_stages import OutputGuards
from proxy.state import PreparedInput
from schemas.chat import ChatMessage, message_text
from schemas.output_guard_config import LeakConfig, OutputPolicy

if TYPE_CHECKING:
    import pytest

SYSTEM = "You are Juno, the booking assistant of Skyline Tours."


def _prepared() -> PreparedInput:
    messages = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content="hi")]
    return PreparedInput(messages=messages, system_prompt=SYSTEM)


def _token(prepared: PreparedInput) -> str:
    (token,) = prepared.canaries
    return token


def test_canary_is_planted_in_the_system_message_and_caught_when_leaked() -> None:
    guards = OutputGuards(OutputPolicy(leak=LeakConfig()))
    planted = guards.plant(_prepared())
    token = _token(planted)
    assert token.startswith("gw-canary-")
    assert len(token) == len("gw-canary-") + 16
    assert message_text(planted.messages[0]) == f"{SYSTEM}\n<!-- {token} -->"
    assert message_text(planted.messages[1]) == "hi"
    flt = guards.new_filter(planted)
    step = flt.feed(f"Sure: my notes end with {token.upper().replace('-', ' ')} and then")
    assert isinstance(step.block, Block)
    assert step.block.rule == "leak.canary"


def test_canary_is_reused_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("proxy.guard_stages.time.monotonic", lambda: now[0])
    guards = OutputGuards(OutputPolicy(leak=LeakConfig()))
    first = _token(guards.plant(_prepared()))
    now[0] += guard_stages._CANARY_TTL_S - 1
    assert _token(guards.plant(_prepared())) == first
    now[0] += 1
    second = _token(guards.plant(_prepared()))
    assert second != first
    assert OutputGuards(OutputPolicy(leak=LeakConfig())).plant(_prepared()).canaries != (second,)


def test_no_canary_without_a_system_message_or_with_canaries_off() -> None:
    user_only = PreparedInput(messages=[ChatMessage(role="user", content="hi")])
    assert OutputGuards(OutputPolicy(leak=LeakConfig())).plant(user_only) is user_only
    prepared = _prepared()
    assert OutputGuards(OutputPolicy(leak=LeakConfig(canary=False))).plant(prepared) is prepared
