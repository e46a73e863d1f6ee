"""Feed a text to an output filter in pieces, the way a stream would, for chunk-independence tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guards.output import OutputChain, StreamContext
    from guards.verdict import Block

__all__ = ["stream_in_pieces"]


def stream_in_pieces(chain: OutputChain, ctx: StreamContext, text: str, cuts: list[int]) -> tuple[str, Block | None]:
    """Feed ``text`` cut at ``cuts`` (sorted offsets), then finish; stop at a block.

    Returns:
        The text released to the client, and the block if a guard blocked the stream.
    """
    flt = chain.new_filter(ctx)
    released = ""
    for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True):
        step = flt.feed(text[a:b])
        released += step.text
        if step.block is not None:
            return released, step.block
    last = flt.finish()
    return released + last.text, last.block
