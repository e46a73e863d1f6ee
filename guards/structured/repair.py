"""The one repair attempt for a non-streamed structured output that failed validation.

``build_repair_messages`` returns the conversation to send upstream for the retry: the
original messages, the model's bad output as an assistant turn, and a user turn that lists
the problems precisely and asks for the corrected JSON only. The caller sends it with the
same model and ``response_format`` and validates the answer again; if that fails too, it
falls back or answers 502 ``invalid_structured_output`` (never a second repair loop).

Design decisions:

* Messages stay plain OpenAI-shaped dicts (``list[dict[str, object]]``) so any adapter can
  translate them; the input list and its dicts are not mutated.
* An empty or whitespace-only bad output gets no assistant turn (several providers reject
  empty assistant content); the user turn says the reply was empty instead.
* At most ``max_errors`` problems are listed, each already bounded by the validator.
* The word "JSON" is always present, which OpenAI's ``json_object`` mode requires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["build_repair_messages"]


def build_repair_messages(
    messages: Sequence[Mapping[str, object]],
    bad_output: str,
    errors: Sequence[str],
    *,
    schema_name: str | None = None,
    max_errors: int = 10,
) -> list[dict[str, object]]:
    """Return the messages for one repair attempt.

    Args:
        messages: the conversation as originally sent upstream.
        bad_output: the text the model produced.
        errors: the problems found (``StructuredSpec.validate_text`` output); must not be empty.
        schema_name: ``json_schema.name``, named in the instruction when given.
        max_errors: how many problems to list at most.

    Returns:
        A new list: copies of ``messages``, the bad output as an assistant turn, and the
        repair instruction as a user turn.

    Raises:
        ValueError: ``errors`` is empty (there is nothing to repair).
    """
    if not errors:
        raise ValueError("build_repair_messages needs at least one validation error")
    target = f'the JSON schema "{schema_name}"' if schema_name else "the required JSON format"
    listed = [f"- {error}" for error in errors[:max_errors]]
    if len(errors) > max_errors:
        listed.append(f"- ... and {len(errors) - max_errors} more problem(s)")
    empty = not bad_output.strip()
    opening = (
        "Your previous reply was empty."
        if empty
        else f"Your previous reply is not valid: it does not conform to {target}."
    )
    instruction = "\n".join(
        [
            opening,
            "Problems found:",
            *listed,
            "",
            f"Reply again with only the corrected JSON document that conforms to {target}. "
            "Do not add explanations, comments or Markdown code fences.",
        ]
    )
    repaired: list[dict[str, object]] = [dict(message) for message in messages]
    if not empty:
        repaired.append({"role": "assistant", "content": bad_output})
    repaired.append({"role": "user", "content": instruction})
    return repaired
