"""``POST /v1/chat/completions`` end to end, minus HTTP framing.

decode -> scope and model checks -> input guards -> admission (per model alias served)
-> attempts (retry, fallback) -> relay or collect -> settle.

Streaming and non-streaming share this path: the upstream is always a stream, and a
non-streaming response is that stream collected. Spend is reserved once per model alias
that ends up being tried (a fallback alias has its own price) and every reservation is
settled exactly once: on success, on failure, and on client disconnect, from the
provider's usage, or else from counted tokens. An attempt that failed before the provider
answered 200 is settled at zero: the provider did not bill it.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from guards.structured import StructuredSpec, build_repair_messages
from proxy.cache import CACHE_HEADER, replay_stream
from proxy.errors import (
    GatewayError,
    InvalidRequestError,
    InvalidStructuredOutputError,
    ModelNotFoundError,
    PermissionDeniedError,
)
from proxy.limits import AdmissionRequest, PromptMessage, cost_micro_usd, micro_price
from proxy.limits import Usage as ChargedUsage
from proxy.pipeline.decode import decode_chat_request
from proxy.pipeline.plan import StreamPlan
from proxy.pipeline.stream import relay
from proxy.pipeline.unary import collect
from proxy.providers.base import UpstreamCall
from proxy.routing.attempts import run_attempts
from proxy.state import PreparedInput
from schemas.chat import ChatMessage, message_text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from proxy.auth import Principal
    from proxy.cache import CacheHit, CachePlan
    from proxy.limits import Admission
    from proxy.pipeline.plan import FilterLike, StructuredCheck
    from proxy.routing.attempts import AttemptRecord, Served
    from proxy.routing.table import Candidate
    from proxy.state import GatewayState
    from proxy.telemetry import RequestTrace
    from schemas.chat import ChatCompletion, ChatCompletionRequest

__all__ = ["ChatOutcome", "handle_chat", "system_prompt_of"]

_log = logging.getLogger("gateway.chat")
_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class ChatOutcome:
    """What the HTTP layer sends: JSON ``body`` or an SSE ``stream``, with headers."""

    headers: dict[str, str]
    body: bytes | None = None
    stream: AsyncIterator[bytes] | None = None
    saved_micro_usd: int = 0
    """A cache hit: what the original answer cost (the tenant pays nothing)."""
    after: Callable[[], Awaitable[None]] | None = None
    """Work to run once the response is sent (settle, cache store); the HTTP layer must call it."""


@dataclass(slots=True)
class _Run:
    """The state of one request across its attempts."""

    state: GatewayState
    principal: Principal
    request: ChatCompletionRequest
    raw: dict[str, msgspec.Raw]
    prepared: PreparedInput
    prompt_tokens: int
    new_filter: Callable[[], FilterLike] | None
    new_check: Callable[[], StructuredCheck] | None
    cache_plan: CachePlan
    trace: RequestTrace
    admissions: dict[str, Admission] = field(default_factory=dict)
    records: list[AttemptRecord] = field(default_factory=list)
    settled: bool = False
    finalized: bool = False
    started: float = field(default_factory=time.perf_counter)

    async def prepare(self, candidate: Candidate) -> UpstreamCall:
        admission = self.admissions.get(candidate.alias)
        if admission is None:
            with self.trace.phase("admission"):
                admission = await self.state.limits.admit(
                    AdmissionRequest(
                        tenant=self.principal.tenant.id,
                        key_id=self.principal.key_id,
                        model=candidate.alias,
                        prompt_tokens=self.prompt_tokens,
                        max_output_tokens=self.request.output_limit,
                        price=candidate.model.price,
                        model_max_output_tokens=candidate.model.max_output_tokens,
                        stream=self.request.stream,
                    )
                )
            self.admissions[candidate.alias] = admission
            self.trace.reserved_micro_usd += admission.reserved_micro_usd
            self.state.telemetry.reservation(self.principal.tenant.id, 1)
        self.trace.attempt_starting()
        return UpstreamCall(
            request=self.request,
            raw=self.raw,
            messages=self.prepared.messages,
            upstream_model=candidate.deployment.model,
            max_tokens=admission.max_tokens,
        )

    def make_plan(self, candidate: Candidate, call: UpstreamCall) -> StreamPlan:
        translator = candidate.provider.new_translator(call, "", candidate.alias)
        return StreamPlan(
            translator,
            include_usage=self.request.stream_options is not None and self.request.stream_options.include_usage,
            new_filter=self.new_filter,
            new_check=self.new_check,
            keep=self.request.stream and self.cache_plan.write,
            whole_text=not self.request.stream,
        )

    def _charged(self, record: AttemptRecord, admission: Admission) -> ChargedUsage:
        plan = record.plan
        if plan is None:
            return ChargedUsage(input_tokens=0, output_tokens=0)
        usage = plan.usage
        if usage is not None:
            details = usage.prompt_tokens_details
            return ChargedUsage(
                input_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
                cached_input_tokens=details.cached_tokens if details is not None else 0,
            )
        produced = "".join(plan.produced)
        counted = self.state.tokens.count_text(record.candidate.deployment.model, produced) if produced else 0
        return ChargedUsage(input_tokens=admission.prompt_tokens, output_tokens=counted)

    async def settle(self) -> None:
        """Settle every reservation once, summing the usage of the attempts made under it."""
        if self.settled:
            return
        self.settled = True
        started = time.perf_counter_ns()
        for alias, admission in self.admissions.items():
            total_in = total_out = total_cached = 0
            for record in self.records:
                if record.candidate.alias == alias:
                    charged = self._charged(record, admission)
                    total_in += charged.input_tokens
                    total_out += charged.output_tokens
                    total_cached += charged.cached_input_tokens
            usage = ChargedUsage(input_tokens=total_in, output_tokens=total_out, cached_input_tokens=total_cached)
            await self.state.limits.settle(admission, usage)
            self.trace.charge(total_in, total_out, cost_micro_usd(usage, micro_price(admission.price)))
        if self.admissions:
            self.trace.add_phase("settle", started)
            self.state.telemetry.reservation(self.principal.tenant.id, -len(self.admissions))

    async def close(self, served: Served | None, completion: ChatCompletion | None) -> None:
        """Settle, then end the cache miss (``completion``: the complete answer the client got, else ``None``)."""
        await self.settle()
        if self.cache_plan.finished or not self.cache_plan.write:
            return
        cost = 0
        if completion is not None and served is not None:
            record = served.record
            admission = self.admissions.get(record.candidate.alias)
            if admission is not None:
                cost = cost_micro_usd(self._charged(record, admission), micro_price(record.candidate.model.price))
        await self.state.cache.finish(self.cache_plan, completion, cost_micro_usd=cost)

    async def abandon(self, served: Served) -> None:
        """After a stream response ended: finalize if the relay never did (never started, so no ``finally``)."""
        if not self.finalized:
            await served.response.aclose()
            await self.finalize(served, "cancelled", None)

    async def finalize(self, served: Served, outcome: str, error: GatewayError | None) -> None:
        if self.finalized:
            return
        self.finalized = True
        released = served.plan.released
        completion = collect(released, served.plan.usage) if outcome == "ok" and released is not None else None
        await self.close(served, completion)
        _log.debug("request finished: %s %s", outcome, error.error_code if error else "")
        self.trace.end_stream(outcome, error.error_code if error else None)
        self.state.telemetry.finish(self.trace)

    def headers(self, served: Served) -> dict[str, str]:
        admission = self.admissions.get(served.record.candidate.alias)
        out = dict(admission.headers) if admission is not None else {}
        out["x-gateway-model"] = served.record.candidate.label
        out["x-gateway-attempts"] = str(len(self.records))
        out[CACHE_HEADER] = self.cache_plan.status
        if served.record.candidate.alias != self.request.model:
            out["x-gateway-fallback"] = served.record.candidate.alias
        return out


def system_prompt_of(messages: list[ChatMessage]) -> str | None:
    """The text of every system/developer message, joined (what the leak guard compares against)."""
    parts = [message_text(m) for m in messages if m.role in ("system", "developer")]
    return "\n".join(parts) if parts else None


async def handle_chat(
    state: GatewayState,
    principal: Principal,
    body: bytes,
    request_id: str,
    *,
    cache_control: str | None = None,
    trace: RequestTrace | None = None,
) -> ChatOutcome:
    """Serve one chat completion request (``cache_control``: the request's ``Cache-Control`` header).

    ``trace`` is the request's telemetry record; the caller finishes it on errors and for
    non-streamed responses, the relay's finalize for streamed ones.

    Raises:
        GatewayError: anything that goes wrong before the first byte (the HTTP layer renders it).
    """
    request, raw = decode_chat_request(body)
    if not principal.has_scope("chat"):
        raise PermissionDeniedError("this API key does not have the 'chat' scope")
    model = state.routes.model(request.model)
    if model is None or not principal.may_use(request.model):
        raise ModelNotFoundError(
            f"The model '{request.model}' does not exist or you do not have access to it.", param="model"
        )
    trace = trace or state.telemetry.start(request_id)
    trace.model, trace.stream = request.model, request.stream
    state.telemetry.note_prompt(trace, request.messages)
    policy = principal.tenant.guard_policy
    input_stage = state.input_stages.get(policy)
    with trace.phase("input_guards"):
        prepared = (
            input_stage.prepare(principal, request, request_id)
            if input_stage is not None
            else PreparedInput(messages=request.messages, system_prompt=system_prompt_of(request.messages))
        )
    trace.input_findings(prepared.findings)
    if not prepared.messages:
        raise InvalidRequestError("'messages' must contain at least one message", param="messages")
    # After the input guards (a refused request must stay refused), before admission (a hit costs nothing).
    cache_started = time.perf_counter_ns()
    cache_plan = state.cache.plan(principal.tenant, request, raw, cache_control)
    hit = await state.cache.lookup(cache_plan)
    trace.cache(cache_plan.status, cache_started)
    if hit is not None:
        return _traced_hit(state, trace, request, hit)
    output_stage = state.output_stages.get(policy)
    new_filter: Callable[[], FilterLike] | None = None
    if output_stage is not None and output_stage.active:
        stage, observed = output_stage, trace
        prepared = stage.plant(prepared)
        guarded = prepared

        def new_filter() -> FilterLike:
            return observed.observe_filter(stage.new_filter(guarded))

    new_check: Callable[[], StructuredCheck] | None = None
    factory = state.structured.checker_factory(request) if state.structured is not None else None
    if factory is not None and request.stream:
        structured = state.structured
        assert structured is not None

        def new_check() -> StructuredCheck:
            return structured.new_check(factory)

    tokenizer = model.tokenizer or model.deployments[0].model
    prompt_tokens = state.tokens.count_messages(
        tokenizer, (PromptMessage(m.role, message_text(m), m.name) for m in prepared.messages)
    )
    run = _Run(state, principal, request, raw, prepared, prompt_tokens, new_filter, new_check, cache_plan, trace)
    trace.records = run.records
    try:
        served = await _serve(run)
        if request.stream:
            trace.first_token()
            finalize = functools.partial(run.finalize, served)
            return ChatOutcome(
                run.headers(served),
                stream=relay(served, finalize, state.detached),
                after=functools.partial(run.abandon, served),
            )
        completion = collect(served.pending, served.plan.usage)
        if factory is not None:
            completion, served = await _validated(run, factory, completion, served)
    except BaseException:
        await state.detached.run(run.close(None, None))
        raise
    # Settle after the body is on the wire: the client does not wait for that round trip.
    return ChatOutcome(
        run.headers(served),
        body=_encoder.encode(completion),
        after=functools.partial(run.close, served, completion),
    )


def _traced_hit(state: GatewayState, trace: RequestTrace, request: ChatCompletionRequest, hit: CacheHit) -> ChatOutcome:
    if request.stream:
        # A replay from memory: the answer is complete now, and nothing else will finish the trace.
        trace.first_token()
        state.telemetry.finish(trace)
    return _cached(request, hit)


def _cached(request: ChatCompletionRequest, hit: CacheHit) -> ChatOutcome:
    headers = {CACHE_HEADER: "hit"}
    if request.stream:
        include_usage = request.stream_options is not None and request.stream_options.include_usage
        stream = replay_stream(hit.completion, include_usage=include_usage)
        return ChatOutcome(headers, stream=stream, saved_micro_usd=hit.saved_micro_usd)
    return ChatOutcome(headers, body=_encoder.encode(hit.completion), saved_micro_usd=hit.saved_micro_usd)


async def _serve(run: _Run) -> Served:
    return await run_attempts(
        run.state.routes.candidates(run.request.model),
        prepare=run.prepare,
        make_plan=run.make_plan,
        client=run.state.client,
        retry=run.state.settings.config.retry,
        collect=not run.request.stream,
        records=run.records,
        rng=run.state.routes.rng,
    )


async def _validated(
    run: _Run, factory: object, completion: ChatCompletion, served: Served
) -> tuple[ChatCompletion, Served]:
    """Non-streaming structured output: validate; on failure, one repair attempt; then a 502."""
    # The factory the request path built is the request's spec: no second schema lookup.
    spec = factory
    assert isinstance(spec, StructuredSpec)
    text = completion.choices[0].message.content or "" if completion.choices else ""
    errors = spec.validate_text(text)
    if not errors:
        return completion, served
    sent = [msgspec.to_builtins(m) for m in run.prepared.messages]
    repair = build_repair_messages(sent, text, errors, schema_name=spec.name)
    run.prepared = PreparedInput(
        messages=msgspec.convert(repair, list[ChatMessage]),
        system_prompt=run.prepared.system_prompt,
        canaries=run.prepared.canaries,
        findings=run.prepared.findings,
    )
    served = await _serve(run)
    completion = collect(served.pending, served.plan.usage)
    text = completion.choices[0].message.content or "" if completion.choices else ""
    errors = spec.validate_text(text)
    if errors:
        raise InvalidStructuredOutputError(
            "the model's output does not match the requested format, even after one repair attempt: "
            + "; ".join(errors[:3])
        )
    return completion, served
