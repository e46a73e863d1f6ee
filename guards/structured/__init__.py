"""Structured outputs: ``response_format`` specs, schema compilation, streaming JSON checks, repair.

Re-exports only; see the modules for the design notes.
"""

from __future__ import annotations

from guards.structured.json_stream import JsonInvalid, JsonOk, JsonStreamChecker, value_kind
from guards.structured.repair import build_repair_messages
from guards.structured.schema_cache import CacheInfo, CompiledSchema, SchemaCache, SchemaProblem
from guards.structured.spec import SpecError, StructuredSpec

__all__ = [
    "CacheInfo",
    "CompiledSchema",
    "JsonInvalid",
    "JsonOk",
    "JsonStreamChecker",
    "SchemaCache",
    "SchemaProblem",
    "SpecError",
    "StructuredSpec",
    "build_repair_messages",
    "value_kind",
]
