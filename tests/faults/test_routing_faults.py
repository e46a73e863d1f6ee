"""Fault injection: the fake upstream misbehaves, the official openai SDK is the client.

Each case asserts what the SDK sees, the attempts made (``x-gateway-attempts`` and the
fakes' request counts), whether the fallback alias served, the wall time against the
configured bounds, and that spend was settled: no reservation left open, and the charge is
what the provider's reported usage costs, zero for attempts that failed before a 200, and
the gateway's own count (prompt + text produced) for attempts that got a 200 and broke
before the provider reported usage.

Config: timeouts connect/first_byte/idle 0.5 s, 2 attempts per deployment, backoff 50-200 ms,
Retry-After cap 1 s, deadline 3 s. Prices are 1 µ$ per input and 2 µ$ per output token.
"""

from __future__ import annotations

import gc
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import openai
import pytest

from fakeupstream import FakeUpstream, UsageRecord
from proxy.limits import PromptMessage
from tests.support.gateway import GatewayServer, make_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path

ADMIN = "admin-key-for-fault-tests-0123456789"
PROMPT = "hi there"
PRIMARY = "fake;words=6;delay_ms=20"
BACKUP = "fake;words=4"
BACKUP_TEXT = "lorem ipsum dolor sit"
TIMEOUTS = {"connect": 0.5, "first_byte": 0.5, "idle": 0.5}
RETRY = {"attempts": 2, "backoff_base_ms": 50, "backoff_max_ms": 200, "retry_after_cap_s": 1.0, "deadline_s": 3.0}
PRICE = {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2}


@dataclass
class Outcome:
    """What the SDK saw."""

    wall: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""
    finish: str | None = None
    error: openai.APIError | None = None

    @property
    def attempts(self) -> int:
        return int(self.headers["x-gateway-attempts"])


class Rig:
    """A gateway whose alias ``main`` (on the primary fake) falls back to ``spare`` (on the backup fake)."""

    def __init__(
        self,
        tmp_path: Path,
        primary: FakeUpstream,
        backup: FakeUpstream,
        fault: str,
        *,
        primary_url: str | None = None,
        fallback: bool = True,
        timeouts: dict[str, float] | None = None,
        retry: dict[str, Any] | None = None,
    ) -> None:
        self.primary, self.backup = primary, backup
        self.primary_model = f"{PRIMARY};{fault}" if fault else PRIMARY
        config = {
            "store": {"kind": "memory"},
            "admin": {"key_env": "ADMIN_KEY"},
            "retry": {**RETRY, **(retry or {})},
            "providers": [
                {
                    "name": "primary",
                    "kind": "openai",
                    "base_url": (primary_url or primary.base_url) + "/v1",
                    "timeouts": {**TIMEOUTS, **(timeouts or {})},
                },
                {"name": "backup", "kind": "openai", "base_url": backup.base_url + "/v1", "timeouts": TIMEOUTS},
            ],
            "models": [
                {
                    "name": "main",
                    "deployments": [{"provider": "primary", "model": self.primary_model}],
                    "fallbacks": ["spare"] if fallback else [],
                    "price": PRICE,
                },
                {"name": "spare", "deployments": [{"provider": "backup", "model": BACKUP}], "price": PRICE},
            ],
            "tenants": [{"id": "acme", "limits": {"spend": {"usd": 5, "window": "24h"}}}],
        }
        key, record = make_key("acme")
        self.server = GatewayServer(config, tmp_path, extra_keys=(record,), environ={"ADMIN_KEY": ADMIN})
        self.server.start()
        self.sdk = openai.OpenAI(base_url=self.server.base_url + "/v1", api_key=key, max_retries=0, timeout=10)

    def close(self) -> None:
        self.sdk.close()
        self.server.stop()

    def chat(self, *, stream: bool) -> Outcome:
        out = Outcome()
        messages: Any = [{"role": "user", "content": PROMPT}]
        # The gateway runs in a thread of this process, whose heap (every module the suite has
        # imported) makes a full garbage collection take tens of milliseconds: one landing inside
        # the timed request would be measured as gateway time. No collection while it runs.
        gc.disable()
        started = time.monotonic()
        try:
            if stream:
                raw = self.sdk.chat.completions.with_raw_response.create(model="main", messages=messages, stream=True)
                out.headers = raw.headers
                for chunk in raw.parse():
                    if chunk.choices:
                        out.text += chunk.choices[0].delta.content or ""
                        out.finish = chunk.choices[0].finish_reason or out.finish
            else:
                unary = self.sdk.chat.completions.with_raw_response.create(model="main", messages=messages)
                out.headers = unary.headers
                completion = unary.parse()
                out.text = completion.choices[0].message.content or ""
                out.finish = completion.choices[0].finish_reason
        except openai.APIError as exc:
            out.error = exc
            if isinstance(exc, openai.APIStatusError):
                out.headers = exc.response.headers
        finally:
            out.wall = time.monotonic() - started
            gc.enable()
        return out

    def admin(self, path: str, **params: str) -> dict[str, Any]:
        response = httpx.get(
            self.server.base_url + path, params=params, headers={"authorization": f"Bearer {ADMIN}"}, timeout=5
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    def settled_spend(self) -> int:
        """The tenant's spend once every reservation is closed (a stream settles just after its last byte)."""
        deadline = time.monotonic() + 3
        while True:
            usage = self.admin("/admin/usage", tenant="acme")
            if usage["open_reservations"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert usage["open_reservations"] == 0
        assert usage["open_micro_usd"] == 0
        assert usage["spent_micro_usd"] == usage["charged_total_micro_usd"]
        spent: int = usage["spent_micro_usd"]
        return spent

    def reported(self, fake: FakeUpstream) -> int:
        """What the usage a fake reported costs, over all its requests."""
        return sum(cost(r.usage) for r in fake.stats().records if r.usage is not None)

    def partial_charges(self, attempts: int) -> set[int]:
        """The possible charges of ``attempts`` attempts broken after two words were sent.

        The gateway charges what it parsed. The word sent just before a fault can share a socket
        read with it (a garbage line fails the whole read) or be discarded with a TCP reset, so
        each attempt is charged for "lorem" or "lorem ipsum": exact values, not a range.
        """
        each = {self.estimated("lorem"), self.estimated("lorem ipsum")}
        totals = {0}
        for _ in range(attempts):
            totals = {t + e for t in totals for e in each}
        return totals

    def estimated(self, produced: str) -> int:
        """The charge of an attempt that got a 200 and broke before any usage: counted prompt + produced text."""
        tokens = self.server.state.tokens
        prompt = tokens.count_messages(self.primary_model, [PromptMessage("user", PROMPT)])
        return prompt + 2 * (tokens.count_text(self.primary_model, produced) if produced else 0)


def cost(usage: UsageRecord) -> int:
    return usage.prompt_tokens + 2 * usage.completion_tokens


@pytest.fixture
def fakes() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    with FakeUpstream() as primary, FakeUpstream() as backup:
        yield primary, backup


@pytest.fixture
def make_rig(tmp_path: Path, fakes: tuple[FakeUpstream, FakeUpstream]) -> Iterator[Callable[..., Rig]]:
    """Build the test's rig (``make_rig(fault, **options)``); it is closed after the test."""
    made: list[Rig] = []

    def build(fault: str, **options: Any) -> Rig:
        made.append(Rig(tmp_path, *fakes, fault, **options))
        return made[-1]

    yield build
    for rig in made:
        rig.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_fallback_served(out: Outcome) -> None:
    assert out.error is None, out.error
    assert out.headers["x-gateway-fallback"] == "spare"
    assert out.headers["x-gateway-model"] == f"backup/{BACKUP}"
    assert out.text == BACKUP_TEXT
    assert out.finish == "stop"


@dataclass(frozen=True)
class Before:
    """A fault before the first content token: both modes switch to the fallback the same way."""

    fault: str
    primary_attempts: int
    max_wall: float
    min_wall: float = 0.0
    broke_after_200: bool = False
    """The primary's attempts got a 200 before failing: each is charged its prompt."""


BEFORE = [
    Before("fault=status:500", 2, max_wall=0.8),
    Before("fault=status:503", 2, max_wall=0.8),
    # Retry-After 0.3 s is under the 1 s cap: the same deployment is retried after exactly that wait.
    Before("fault=status:429;retry_after=0.3", 2, min_wall=0.3, max_wall=1.0),
    # Retry-After 5 s is over the cap: no wait, no retry, straight to the fallback.
    Before("fault=status:429;retry_after=5", 1, max_wall=0.5),
    # An upstream 401/404 describes the deployment: fall back, never retry.
    Before("fault=status:401", 1, max_wall=0.5),
    Before("fault=status:404", 1, max_wall=0.5),
    # Two first-byte timeouts of 0.5 s plus at most 50 ms of backoff.
    Before("fault=hang_headers", 2, min_wall=1.0, max_wall=1.6),
    Before("fault=slow_first_byte:2000", 2, min_wall=1.0, max_wall=1.6),
    Before("fault=html", 2, max_wall=0.8),
    Before("fault=malformed_after:0", 2, max_wall=0.8, broke_after_200=True),
    Before("fault=truncated_after:0", 2, max_wall=0.8, broke_after_200=True),
    Before("fault=drop_after:0", 2, max_wall=0.8, broke_after_200=True),
]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
@pytest.mark.parametrize("case", BEFORE, ids=[c.fault.removeprefix("fault=") for c in BEFORE])
def test_failure_before_content_falls_back(make_rig: Callable[..., Rig], case: Before, stream: bool) -> None:
    rig = make_rig(case.fault)
    out = rig.chat(stream=stream)
    assert_fallback_served(out)
    assert out.attempts == case.primary_attempts + 1
    assert rig.primary.stats().total == case.primary_attempts
    assert rig.backup.stats().total == 1
    assert case.min_wall <= out.wall < case.max_wall
    expected = rig.reported(rig.backup)
    if case.broke_after_200:
        expected += case.primary_attempts * rig.estimated("")
    assert rig.settled_spend() == expected
    if "retry_after=0.3" in case.fault:
        first, second = rig.primary.stats().records
        assert second.started - first.started >= 0.3


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
def test_connection_refused_falls_back_fast(make_rig: Callable[..., Rig], stream: bool) -> None:
    rig = make_rig("", primary_url=f"http://127.0.0.1:{closed_port()}")
    out = rig.chat(stream=stream)
    assert_fallback_served(out)
    assert out.attempts == 3
    assert rig.primary.stats().total == 0
    assert rig.backup.stats().total == 1
    assert out.wall < 0.5
    assert rig.settled_spend() == rig.reported(rig.backup)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
def test_slow_first_byte_under_the_timeout_is_served_by_the_primary(make_rig: Callable[..., Rig], stream: bool) -> None:
    rig = make_rig("fault=slow_first_byte:300")
    out = rig.chat(stream=stream)
    assert out.error is None
    assert out.headers["x-gateway-model"] == f"primary/{rig.primary_model}"
    assert "x-gateway-fallback" not in out.headers
    assert out.text == "lorem ipsum dolor sit amet consectetur"
    assert out.attempts == 1
    assert 0.3 <= out.wall < 0.8
    assert rig.settled_spend() == rig.reported(rig.primary)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
def test_a_transient_failure_is_retried_on_the_same_deployment(make_rig: Callable[..., Rig], stream: bool) -> None:
    rig = make_rig("fail_first=1")
    out = rig.chat(stream=stream)
    assert out.error is None
    assert out.headers["x-gateway-model"] == f"primary/{rig.primary_model}"
    assert out.attempts == 2
    assert rig.primary.stats().total == 2
    assert rig.backup.stats().total == 0
    assert out.wall < 0.5
    assert rig.settled_spend() == rig.reported(rig.primary)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
@pytest.mark.parametrize("status", [400, 422])
def test_a_client_error_is_neither_retried_nor_fallen_back(
    make_rig: Callable[..., Rig], status: int, stream: bool
) -> None:
    rig = make_rig(f"fault=status:{status}")
    out = rig.chat(stream=stream)
    assert isinstance(out.error, openai.BadRequestError)
    assert out.attempts == 1
    assert (rig.primary.stats().total, rig.backup.stats().total) == (1, 0)
    assert out.wall < 0.3
    assert rig.settled_spend() == 0


MID_STREAM = ["hang_after:2", "drop_after:2", "malformed_after:2", "truncated_after:2"]


@pytest.mark.parametrize("fault", MID_STREAM)
def test_stream_broken_after_content_ends_with_one_error_event(make_rig: Callable[..., Rig], fault: str) -> None:
    rig = make_rig(f"fault={fault}")
    out = rig.chat(stream=True)
    # The SDK raises on the error event; it never saw a finish_reason or [DONE].
    assert isinstance(out.error, openai.APIError)
    assert out.error.code == "stream_interrupted"
    assert out.finish is None
    assert out.text in ("lorem", "lorem ipsum")
    assert out.headers["x-gateway-model"] == f"primary/{rig.primary_model}"
    assert out.attempts == 1
    assert (rig.primary.stats().total, rig.backup.stats().total) == (1, 0)
    if fault.startswith("hang"):
        assert out.text == "lorem ipsum"
        assert 0.5 <= out.wall < 1.0  # content at ~40 ms, then one idle timeout
    else:
        assert out.wall < 0.5
    # Charged for what the gateway parsed, which is at least what the client got.
    spent = rig.settled_spend()
    assert spent in rig.partial_charges(1)
    assert spent >= rig.estimated(out.text)


@pytest.mark.parametrize("fault", MID_STREAM)
def test_unary_broken_mid_body_falls_back(make_rig: Callable[..., Rig], fault: str) -> None:
    rig = make_rig(f"fault={fault}")
    out = rig.chat(stream=False)
    assert_fallback_served(out)
    assert out.attempts == 3
    assert (rig.primary.stats().total, rig.backup.stats().total) == (2, 1)
    if fault.startswith("hang"):
        assert 1.0 <= out.wall < 1.6
    else:
        assert out.wall < 0.8
    assert rig.settled_spend() - rig.reported(rig.backup) in rig.partial_charges(2)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
def test_429_without_a_fallback_reaches_the_client_with_retry_after(make_rig: Callable[..., Rig], stream: bool) -> None:
    rig = make_rig("fault=status:429;retry_after=5", fallback=False)
    out = rig.chat(stream=stream)
    assert isinstance(out.error, openai.RateLimitError)
    assert out.error.code == "upstream_rate_limited"
    assert out.headers["retry-after"] == "5"
    assert out.attempts == 1
    assert out.wall < 0.3
    assert rig.settled_spend() == 0


def test_every_deployment_failing_is_one_upstream_error(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("fault=status:500")
    rig.backup.script("fault=status:502")
    out = rig.chat(stream=True)
    assert isinstance(out.error, openai.APIStatusError)
    assert out.error.status_code == 503
    assert out.error.code == "upstream_unavailable"
    assert out.attempts == 4
    assert (rig.primary.stats().total, rig.backup.stats().total) == (2, 2)
    assert out.wall < 1.0
    assert rig.settled_spend() == 0


def test_the_deadline_bounds_the_request(make_rig: Callable[..., Rig]) -> None:
    # A 2 s first-byte timeout: the second attempt is cut by the 3 s deadline; no time is left for the fallback.
    rig = make_rig("fault=hang_headers", timeouts={"first_byte": 2.0})
    out = rig.chat(stream=True)
    assert isinstance(out.error, openai.APIStatusError)
    assert out.error.status_code == 504
    assert out.error.code == "upstream_timeout"
    assert out.attempts == 2
    assert rig.backup.stats().total == 0
    assert 3.0 <= out.wall < 3.5
    assert rig.settled_spend() == 0


def test_breaker_opens_skips_the_primary_then_a_probe_closes_it(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig("", retry={"breaker_failures": 2, "breaker_cooldown_s": 0.5})
    label = f"primary/{rig.primary_model}"
    rig.primary.script("fault=status:500")
    first = rig.chat(stream=True)
    assert_fallback_served(first)
    assert first.attempts == 3
    assert rig.admin("/admin/breakers")["data"][label] == "open"
    second = rig.chat(stream=False)
    assert_fallback_served(second)
    assert second.attempts == 1  # the open circuit is skipped without an attempt
    assert rig.primary.stats().total == 2
    rig.primary.script("")  # the provider recovers
    time.sleep(0.55)
    assert rig.admin("/admin/breakers")["data"][label] == "half_open"
    third = rig.chat(stream=True)
    assert third.error is None
    assert third.headers["x-gateway-model"] == label
    assert rig.admin("/admin/breakers")["data"][label] == "closed"
    assert rig.settled_spend() == rig.reported(rig.backup) + rig.reported(rig.primary)
