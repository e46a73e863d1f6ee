"""``StreamPlan``: every synchronous stage one upstream stream passes through.

upstream bytes -> SSE decode -> adapter translation -> per-choice output filter
(hold-back, redaction, block) -> per-choice structured-output check -> chunks for the client.

The plan is pure and synchronous (``feed(bytes) -> chunks``, ``finish() -> chunks``), in the
shape of httpx's decoders, so it is unit-tested without I/O; one async driver owns the
upstream response (``proxy.pipeline.stream``). It also keeps what settle needs: the usage
the provider reported, and how much text reached the client when no usage arrived.

With an output filter, consecutive content-only deltas of one choice that arrive in the same
upstream read are merged before filtering: one filter call per read rather than per token
(the guards are chunk-independent, so the text is the same; the client gets fewer, larger chunks).

A usage-only chunk is emitted last, and only when the client asked for it
(``stream_options.include_usage``): the gateway always asks the upstream for usage because
spend is settled from it.

Deferred filtering (``proxy.guard_workers``): a filter may answer ``feed``/``finish`` with a
``DeferredStep`` whose ``pending`` work has to run elsewhere (a worker process) before it can
release more. The plan stays synchronous: it queues that work and keeps going (text keeps
accumulating in the filter); the async driver runs it and calls ``resume``:

    chunks = plan.feed(raw)
    while (work := plan.next_work()) is not None:
        await work.run()
        chunks += plan.resume()

``resume`` polls the filter (``feed("")``, or ``finish()`` once the choice is closing) and
releases what the work produced as a content chunk of its own. A choice's finish chunk waits
until its filter is ``settled``, and the usage chunk until every choice is. Only the
content's timing and chunk boundaries change; the text is the same as inline. Other parts
of a chunk (role, tool calls) go out at once, so content held in a batch can come after a
tool-call fragment that followed it upstream (clients assemble each field on its own).
Inline filters never return a ``DeferredStep``: their path is unchanged.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

from proxy.errors import ContentBlockedError, GatewayError, InvalidStructuredOutputError, UpstreamProtocolError
from proxy.pipeline.merge import content_of, content_only
from proxy.sse import SSEDecodeError, SSEDecoder
from schemas.chat import ChatCompletionChunk, ChunkChoice, Delta, Usage

if TYPE_CHECKING:
    from collections.abc import Callable

    from proxy.providers.base import StreamTranslator

__all__ = ["DeferredStep", "FilterLike", "FilterWork", "StepLike", "StreamPlan", "StructuredCheck"]


class StepLike(Protocol):
    """What an output filter returns (``guards.output.chain.FilterStep``)."""

    @property
    def text(self) -> str:
        """Releasable, already redacted text."""
        ...

    @property
    def block(self) -> object | None:
        """Set when a guard in block mode fired (a ``guards.verdict.Block``)."""
        ...


class FilterWork(Protocol):
    """Work a filter needs run off the plan before it can release more (a worker batch)."""

    async def run(self) -> None:
        """Run it; the result is kept by the filter, which the plan polls in ``resume``.

        Raises:
            GatewayError: the work failed and the policy fails closed.
        """
        ...


class DeferredStep:
    """A step whose filter works elsewhere: released text so far, plus what must run next."""

    __slots__ = ("block", "findings", "pending", "settled", "text")

    def __init__(
        self,
        text: str,
        *,
        block: object | None = None,
        findings: tuple[object, ...] = (),
        pending: FilterWork | None = None,
        settled: bool = False,
    ) -> None:
        self.text = text
        self.block = block
        self.findings = findings
        self.pending = pending
        """New work to run before the filter can release more; handed out once."""
        self.settled = settled
        """After ``finish``: True once every character was decided (nothing more will come)."""


class FilterLike(Protocol):
    """One output filter per choice per stream."""

    def feed(self, text: str) -> StepLike:
        """Next delta text in, releasable text out."""
        ...

    def finish(self) -> StepLike:
        """End of the choice: flush the hold-back window."""
        ...


class StructuredCheck(Protocol):
    """Incremental structured-output check for one choice."""

    def feed(self, text: str) -> str | None:
        """Return an error message at the first syntax error."""
        ...

    def finish(self) -> str | None:
        """Return an error when the complete text is not valid (syntax or schema)."""
        ...


class _Choice:
    __slots__ = ("check", "closing", "filter", "finished", "held", "index")

    def __init__(self, index: int, output_filter: FilterLike | None, check: StructuredCheck | None) -> None:
        self.index = index
        self.held: list[str] = []
        """``whole_text`` mode: the choice's content, filtered once at its end."""
        self.filter = output_filter
        self.check = check
        self.finished = False
        self.closing: ChunkChoice | None = None
        """The finish chunk, held until a deferred filter is settled."""


class StreamPlan:
    """Per attempt, not thread-safe, used once."""

    def __init__(
        self,
        translator: StreamTranslator,
        *,
        include_usage: bool,
        new_filter: Callable[[], FilterLike] | None = None,
        new_check: Callable[[], StructuredCheck] | None = None,
        keep: bool = False,
        whole_text: bool = False,
    ) -> None:
        self._decoder = SSEDecoder()
        self._translator = translator
        self._include_usage = include_usage
        self._new_filter = new_filter
        self._new_check = new_check
        self._choices: dict[int, _Choice] = {}
        self._last: ChatCompletionChunk | None = None
        self.usage: Usage | None = None
        """The usage the provider reported, if any."""
        self.produced: list[str] = []
        """Every content delta the upstream produced (before filters): counted when no usage arrives."""
        self.started = False
        """True once content or a tool call was produced: from then on the attempt cannot be switched."""
        self.blocked_rule: str | None = None
        self._pending: GatewayError | None = None
        self._work: deque[tuple[_Choice, FilterWork]] = deque()
        self._finishing = False
        self._whole_text = whole_text
        """Non-streaming: nobody sees the text before the end, so each choice is filtered once, whole
        (the same output by the chunk-invariance of the guards, at a fraction of the per-call cost)."""
        self.released: list[ChatCompletionChunk] | None = [] if keep else None
        """With ``keep``: every chunk released to the client, in order (the response cache stores them)."""

    def feed(self, raw: bytes) -> list[ChatCompletionChunk]:
        """Process the next upstream bytes.

        When a read holds good events and then a failure (a garbage line, an error event), the
        chunks before the failure are returned first and the failure is raised by the next
        ``feed``/``finish``: the client gets every byte of content it is charged for.
        """
        self._raise_pending()
        out: list[ChatCompletionChunk] = []
        merging = self._new_filter is not None and not self._whole_text
        pending: list[ChatCompletionChunk] = []  # at most one content-only chunk, still growing
        try:
            try:
                for event in self._decoder.decode(raw):
                    for chunk in self._translator.feed(event):
                        if merging and content_only(chunk):
                            # Consecutive content deltas of one choice in one read are filtered as
                            # one text: one filter call instead of one per token (the output is the
                            # same, the guards being chunk-independent; only chunk boundaries move).
                            if pending and pending[0].choices[0].index == chunk.choices[0].index:
                                pending[0].choices[0].delta.content = content_of(pending[0]) + content_of(chunk)
                                continue
                            self._flush(pending, out)
                            pending.append(chunk)
                            continue
                        self._flush(pending, out)
                        self._chunk(chunk, out)
            finally:
                # content decoded before a failure is still delivered, then the failure
                self._flush(pending, out)
        except SSEDecodeError as exc:
            self._pending = UpstreamProtocolError("upstream sent a malformed event stream")
            self._pending.__cause__ = exc
        except GatewayError as exc:
            self._pending = exc
        if self._pending is not None and not out:
            self._raise_pending()
        if self.released is not None:
            self.released += out
        return out

    def _flush(self, pending: list[ChatCompletionChunk], out: list[ChatCompletionChunk]) -> None:
        if pending:
            chunk = pending.pop()
            self._chunk(chunk, out)

    def _raise_pending(self) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            raise pending

    def finish(self) -> list[ChatCompletionChunk]:
        """End of the upstream body: the stream must have ended properly, then flush every stage."""
        self._raise_pending()
        out: list[ChatCompletionChunk] = []
        try:
            events = self._decoder.flush()
        except SSEDecodeError as exc:
            raise UpstreamProtocolError("upstream sent a malformed event stream") from exc
        for event in events:
            for chunk in self._translator.feed(event):
                self._chunk(chunk, out)
        if not self._translator.done:
            raise UpstreamProtocolError("upstream stream ended before its end marker")
        cut: list[ChunkChoice] = []
        for index, state in self._choices.items():
            if not state.finished and state.closing is None:
                # The provider never sent a finish_reason for this choice: flush it as cut short.
                self._close_choice(state, ChunkChoice(index=index, finish_reason="length"), cut)
        if cut:
            out.append(self._derive(cut))
        self._finishing = True
        if not self._work:
            self._usage_chunk(out)
        if self.released is not None:
            self.released += out
        return out

    def next_work(self) -> FilterWork | None:
        """Work a deferred filter handed out, which the driver must run before ``resume``; inline: ``None``."""
        return self._work[0][1] if self._work else None

    def resume(self) -> list[ChatCompletionChunk]:
        """After ``next_work().run()``: release what it decided (and, at the end, the last chunks)."""
        state, _ = self._work.popleft()
        assert state.filter is not None
        out: list[ChatCompletionChunk] = []
        closing = state.closing
        step = state.filter.finish() if closing is not None else state.filter.feed("")
        text = self._released_text(state, step)
        if closing is not None and isinstance(step, DeferredStep) and step.settled:
            state.closing = None
            done: list[ChunkChoice] = []
            self._finish_choice(state, closing, text, done)
            out.append(self._derive(done))
        elif text:
            out.append(self._derive([ChunkChoice(index=state.index, delta=Delta(content=text))]))
        if self._finishing and not self._work:
            self._usage_chunk(out)
        if self.released is not None:
            self.released += out
        return out

    def _usage_chunk(self, out: list[ChatCompletionChunk]) -> None:
        if self._include_usage and self.usage is not None and self._last is not None:
            out.append(self._derive([], self.usage))

    def _derive(self, choices: list[ChunkChoice], usage: Usage | None = None) -> ChatCompletionChunk:
        assert self._last is not None
        last = self._last
        return ChatCompletionChunk(
            id=last.id,
            model=last.model,
            created=last.created,
            choices=choices,
            usage=usage,
            system_fingerprint=last.system_fingerprint,
        )

    def _chunk(self, chunk: ChatCompletionChunk, out: list[ChatCompletionChunk]) -> None:
        self._last = chunk
        if chunk.usage is not None:
            self.usage = chunk.usage
            chunk.usage = None
        if not chunk.choices:
            return
        kept: list[ChunkChoice] = []
        for choice in chunk.choices:
            state = self._choices.get(choice.index)
            if state is None:
                state = _Choice(
                    choice.index,
                    self._new_filter() if self._new_filter else None,
                    self._new_check() if self._new_check else None,
                )
                self._choices[choice.index] = state
            if choice.finish_reason is not None:
                self._close_choice(state, choice, kept)
                continue
            delta = choice.delta
            if delta.content:
                self.produced.append(delta.content)
                delta.content = self._pass(state, delta.content) or None
            if delta.tool_calls:
                self.started = True
            if delta.content is not None or delta.role is not None or delta.tool_calls or delta.refusal:
                kept.append(choice)
        if kept:
            chunk.choices = kept
            out.append(chunk)

    def _pass(self, state: _Choice, text: str) -> str:
        if state.filter is not None:
            if self._whole_text:
                state.held.append(text)
                return ""
            return self._released_text(state, state.filter.feed(text))
        if text:
            self._checked(state, text)
        return text

    def _released_text(self, state: _Choice, step: StepLike) -> str:
        """A filter step's text, after the block and structured checks; queues deferred work."""
        self._raise_if_blocked(step)
        if isinstance(step, DeferredStep) and step.pending is not None:
            self._work.append((state, step.pending))
        text = step.text
        if text:
            self._checked(state, text)
        return text

    def _checked(self, state: _Choice, text: str) -> None:
        self.started = True
        if state.check is not None:
            error = state.check.feed(text)
            if error is not None:
                raise InvalidStructuredOutputError(f"the model produced invalid JSON: {error}")

    def _close_choice(self, state: _Choice, choice: ChunkChoice, out: list[ChunkChoice]) -> None:
        tail = choice.delta.content or ""
        if tail:
            self.produced.append(tail)
        text = self._pass(state, tail) if tail else ""
        if state.held:
            whole = "".join(state.held)
            state.held.clear()
            assert state.filter is not None
            text = self._released_text(state, state.filter.feed(whole))
        if state.filter is not None:
            step = state.filter.finish()
            text += self._released_text(state, step)
            if isinstance(step, DeferredStep) and not step.settled:
                # The rest of this choice's text is still being decided: release what is known,
                # hold the finish chunk until ``resume`` settles it.
                state.closing = choice
                if text:
                    out.append(ChunkChoice(index=choice.index, delta=Delta(content=text)))
                return
        self._finish_choice(state, choice, text, out)

    def _finish_choice(self, state: _Choice, choice: ChunkChoice, text: str, out: list[ChunkChoice]) -> None:
        if state.check is not None and choice.finish_reason == "stop":
            error = state.check.finish()
            if error is not None:
                raise InvalidStructuredOutputError(f"the model's output does not match the schema: {error}")
        state.finished = True
        choice.delta.content = text or None
        out.append(choice)

    def _raise_if_blocked(self, step: StepLike) -> None:
        block = step.block
        if block is not None:
            rule = str(getattr(block, "rule", "output_guard"))
            self.blocked_rule = rule
            raise ContentBlockedError(
                f"the response was blocked by the output guard rule {rule!r}", code="output_blocked"
            )
