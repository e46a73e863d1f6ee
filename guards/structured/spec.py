"""What a request's ``response_format`` demands of the output, and checking outputs against it.

``StructuredSpec.from_response_format(fmt, cache=...)`` turns the client's ``response_format``
into one of:

* ``None``: ``type: text`` or no ``response_format``; nothing to check;
* ``SpecError``: the client's ``response_format`` is unusable (bad name, invalid schema,
  remote ``$ref``...); the proxy renders it as a 400 ``invalid_request_error`` with
  ``param`` set to ``SpecError.param``;
* ``StructuredSpec``: immutable, shared by the request's choices. Streaming: one
  ``new_checker()`` per choice, ``feed()`` each delta, then ``finish(checker)``. Non-streaming:
  ``validate_text(text)``. An empty error list means the output is acceptable.

Design decisions:

* ``json_object`` requires a JSON *object* at the top level (what OpenAI's JSON mode
  guarantees), and the streaming checker rejects any other first character at once.
* ``json_schema`` output is validated whether or not ``strict`` is set: the gateway's promise
  is that a malformed generation never reaches the caller as a success. ``strict`` is kept on
  the spec for callers that want to relax that.
* A root ``type`` in the schema narrows the kinds the checker accepts at the first character.
* No leniency for Markdown code fences around the JSON: that is a malformed output, and the
  non-streaming path's single repair attempt is the place it gets fixed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import msgspec

from guards.structured.json_stream import JsonInvalid, JsonStreamChecker, value_kind
from guards.structured.schema_cache import CompiledSchema, SchemaCache, SchemaProblem
from schemas.chat import ResponseFormat

__all__ = ["SpecError", "StructuredSpec"]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KINDS = frozenset({"object", "array", "string", "number", "boolean", "null"})


class SpecError(msgspec.Struct, frozen=True):
    """The client's ``response_format`` cannot be honoured: a 400 for the client."""

    message: str
    param: str = "response_format"
    """The OpenAI error ``param``."""


def _root_kinds(schema: Mapping[str, object]) -> frozenset[str] | None:
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    kinds = {"number" if name == "integer" else name for name in names}
    return frozenset(kinds) if kinds <= _KINDS else None


class StructuredSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A request's structured-output contract; immutable, built once per request."""

    kind: Literal["json_object", "json_schema"]
    name: str | None = None
    """``json_schema.name`` (used in repair prompts and logs)."""
    strict: bool = False
    """The client's ``json_schema.strict`` flag."""
    compiled: CompiledSchema | None = None
    """The compiled schema (``None`` for ``json_object``, or a ``json_schema`` without a schema)."""
    root_kinds: frozenset[str] | None = None
    """JSON kinds allowed at the top level, when known up front."""
    max_depth: int = 128
    """Deepest nesting accepted in the output."""

    @classmethod
    def from_response_format(
        cls, fmt: ResponseFormat | Mapping[str, object] | None, *, cache: SchemaCache
    ) -> StructuredSpec | SpecError | None:
        """Build the spec for a request's ``response_format``.

        Args:
            fmt: the decoded ``response_format`` (or a plain mapping in the same shape).
            cache: the process-wide schema cache.

        Returns:
            ``None`` when no structure is required, a ``SpecError`` for an unusable format,
            otherwise the spec.
        """
        if isinstance(fmt, Mapping):
            try:
                fmt = msgspec.convert(fmt, ResponseFormat)
            except msgspec.ValidationError as exc:
                return SpecError(f"invalid response_format: {exc}")
        if fmt is None or fmt.type == "text":
            return None
        if fmt.type == "json_object":
            return cls(kind="json_object", root_kinds=frozenset({"object"}))
        options = fmt.json_schema
        if options is None:
            return SpecError("response_format.json_schema is required when response_format.type is 'json_schema'")
        if _NAME.fullmatch(options.name) is None:
            return SpecError(
                "response_format.json_schema.name must be 1 to 64 characters of letters, digits, '_' or '-'"
            )
        strict = bool(options.strict)
        if options.schema is None:
            return cls(kind="json_schema", name=options.name, strict=strict)
        compiled = cache.compile(options.schema)
        if isinstance(compiled, SchemaProblem):
            return SpecError(f"response_format.json_schema.schema: {compiled.message}")
        return cls(
            kind="json_schema",
            name=options.name,
            strict=strict,
            compiled=compiled,
            root_kinds=_root_kinds(options.schema),
        )

    def new_checker(self) -> JsonStreamChecker:
        """A fresh incremental syntax checker for one streamed choice."""
        return JsonStreamChecker(root_kinds=self.root_kinds, max_depth=self.max_depth)

    def validate_value(self, value: object) -> list[str]:
        """Check a decoded document against the contract; empty list = valid."""
        if self.kind == "json_object":
            kind = value_kind(value)
            return [] if kind == "object" else [f"$: the output must be a JSON object, not {kind}"]
        if self.compiled is None:
            return []
        return self.compiled.errors(value)

    def finish(self, checker: JsonStreamChecker) -> list[str]:
        """End of a streamed choice: syntax verdict, then schema validation; empty list = valid."""
        result = checker.finish()
        if isinstance(result, JsonInvalid):
            return [result.message]
        return self.validate_value(result.value)

    def validate_text(self, text: str) -> list[str]:
        """Check a complete (non-streamed) output text; empty list = valid."""
        checker = self.new_checker()
        checker.feed(text)
        return self.finish(checker)
