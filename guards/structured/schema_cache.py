"""Compiling client-supplied JSON schemas into validators, once per schema.

``SchemaCache.compile(schema)`` returns a ``CompiledSchema`` (a ready jsonschema validator)
or a ``SchemaProblem`` explaining why the client's schema cannot be used. Both outcomes are
cached in a bounded LRU keyed by the SHA-256 of the canonical schema bytes
(``msgspec.json.encode(schema, order="sorted")``), so a hot schema is compiled once and a
client repeating a broken schema does not make the gateway recompile it on every request.

Design decisions:

* Draft 2020-12 by default. A ``$schema`` naming another draft that jsonschema ships
  (4, 6, 7, 2019-09) is honoured; any other ``$schema`` is a problem, never a fetch.
* **No network, ever.** References resolve through a ``referencing`` registry whose
  ``retrieve`` refuses every URI, so only ``$ref``s into the schema itself (``#/$defs/x``,
  anchors, embedded ``$id``s) and the bundled meta-schemas resolve. Every ``$ref`` is
  resolved once at compile time, so an unresolvable one is a 400 for the client rather than
  an error in the middle of validating a model's output.
* ``format`` is asserted (jsonschema's checks plus ``guards.structured.formats`` for
  date-time, time, duration and hostname): a model told ``"format": "date-time"`` must
  produce one. Formats nobody checks (uri, ...) stay annotations.
* Limits: canonical size (``max_schema_bytes``) and nesting depth (``max_depth``), checked
  before anything recursive touches the schema. Recursion that only shows while validating
  (a ``$ref`` cycle that consumes no input) is caught and reported as a validation error.
* Known residual risk: ``pattern`` regexes come from the client and run on the model's
  output with Python ``re`` (backtracking); keep ``max_schema_bytes`` modest.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import msgspec
from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

from guards.structured.formats import format_checker

if TYPE_CHECKING:
    from jsonschema import FormatChecker
    from jsonschema.protocols import Validator
    from referencing._core import Resolver

__all__ = ["CacheInfo", "CompiledSchema", "SchemaCache", "SchemaProblem"]

_VALIDATORS: tuple[type[Validator], ...] = (
    Draft202012Validator,
    Draft201909Validator,
    Draft7Validator,
    Draft6Validator,
    Draft4Validator,
)
_MESSAGE_LIMIT = 240
_PROBES: tuple[object, ...] = (None, {}, [])


class SchemaProblem(msgspec.Struct, frozen=True):
    """Why a client-supplied schema cannot be used (rendered as a 400 by the proxy)."""

    message: str


class CompiledSchema(msgspec.Struct, frozen=True):
    """A schema compiled into a validator; immutable and shared by every request using it."""

    digest: str
    """Hex SHA-256 of the canonical schema bytes (the cache key)."""
    schema: dict[str, object]
    """The schema as the client sent it."""
    validator: Any
    """The jsonschema validator instance (``jsonschema.protocols.Validator``)."""

    def errors(self, value: object, *, limit: int = 10) -> list[str]:
        """Validate a decoded document; return up to ``limit`` readable errors (empty = valid)."""
        validator: Validator = self.validator
        document: Any = value
        try:
            return [_describe(error) for error in itertools.islice(validator.iter_errors(document), limit)]
        except RecursionError:
            return ["the schema recurses without consuming input, or the output nests too deeply to validate"]
        except Unresolvable as exc:  # pragma: no cover - compile() resolves every $ref up front
            return [f"the schema has an unresolvable reference: {exc}"]


class CacheInfo(msgspec.Struct, frozen=True):
    """Counters for metrics."""

    hits: int
    misses: int
    size: int


def _truncate(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _describe(error: ValidationError) -> str:
    text = f"{error.json_path}: {_truncate(error.message)}"
    if error.context:
        closest = best_match(error.context)
        text += f" (closest match failed at {closest.json_path}: {_truncate(closest.message)})"
    return text


def _refuse(uri: str) -> Resource[Any]:
    """Registry ``retrieve`` hook: nothing outside the schema is ever fetched."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def _depth(schema: object, limit: int) -> bool:
    """Return True when ``schema`` nests no deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(schema, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True


def _check_refs(root: Resource[Any], registry: Registry[Any]) -> str | None:
    """Resolve every ``$ref``/``$dynamicRef`` once; return the first one that does not resolve."""
    pending: list[tuple[Resource[Any], Resolver[Any]]] = [(root, registry.resolver_with_root(root))]
    while pending:
        resource, resolver = pending.pop()
        contents = resource.contents
        if isinstance(contents, dict):
            for keyword in ("$ref", "$dynamicRef", "$recursiveRef"):
                ref = contents.get(keyword)
                if isinstance(ref, str):
                    try:
                        resolver.lookup(ref)
                    except Unresolvable:
                        return ref
        pending.extend((sub, resolver.in_subresource(sub)) for sub in resource.subresources())
    return None


def _validator_class(schema: dict[str, object]) -> type[Validator] | SchemaProblem:
    declared = schema.get("$schema")
    if declared is None:
        return Draft202012Validator
    if isinstance(declared, str):
        wanted = declared.rstrip("#")
        for cls in _VALIDATORS:
            if str(cls.META_SCHEMA["$schema"]).rstrip("#") == wanted:
                return cls
    return SchemaProblem(
        f"unsupported $schema {declared!r}: use JSON Schema Draft 2020-12 (or omit $schema); "
        "drafts 2019-09, 7, 6 and 4 are also accepted"
    )


def _compile(
    schema: dict[str, object], digest: str, max_depth: int, formats: FormatChecker
) -> CompiledSchema | SchemaProblem:
    if not _depth(schema, max_depth):
        return SchemaProblem(f"the schema nests deeper than {max_depth} levels")
    cls = _validator_class(schema)
    if isinstance(cls, SchemaProblem):
        return cls
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        return SchemaProblem(f"invalid JSON schema at {exc.json_path}: {_truncate(exc.message)}")
    spec = specification_with(str(cls.META_SCHEMA["$schema"]), default=DRAFT202012)
    resource = spec.create_resource(schema)
    registry: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]
    bad_ref = _check_refs(resource, registry)
    if bad_ref is not None:
        return SchemaProblem(
            f"unresolvable $ref {_truncate(bad_ref)!r}: only references inside the schema "
            "(such as '#/$defs/name') are allowed; remote schemas are never fetched"
        )
    validator = cls(schema, registry=registry, format_checker=formats)
    try:
        probe: Any
        for probe in _PROBES:
            validator.is_valid(probe)
    except RecursionError:
        return SchemaProblem("the schema refers to itself without consuming input (infinite $ref recursion)")
    return CompiledSchema(digest=digest, schema=schema, validator=validator)


class SchemaCache:
    """Bounded LRU of compiled schemas keyed by canonical-bytes SHA-256. Thread-safe.

    One instance per process, created at startup and passed in explicitly.

    Args:
        max_entries: how many distinct schemas (valid or not) are kept.
        max_schema_bytes: largest canonical schema accepted.
        max_depth: deepest schema nesting accepted.
    """

    def __init__(self, *, max_entries: int = 256, max_schema_bytes: int = 65536, max_depth: int = 64) -> None:
        self._entries: OrderedDict[str, CompiledSchema | SchemaProblem] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._max_schema_bytes = max_schema_bytes
        self._max_depth = max_depth
        self._hits = 0
        self._misses = 0
        # Built once, never mutated afterwards: shared read-only by every compiled validator.
        self._formats = format_checker()

    def info(self) -> CacheInfo:
        """Hit/miss counters and current size."""
        with self._lock:
            return CacheInfo(hits=self._hits, misses=self._misses, size=len(self._entries))

    def compile(self, schema: object) -> CompiledSchema | SchemaProblem:
        """Return the validator for ``schema`` (compiling it on first sight) or the problem with it."""
        if not isinstance(schema, dict):
            return SchemaProblem("the schema must be a JSON object")
        try:
            canonical = msgspec.json.encode(schema, order="sorted")
        except (TypeError, ValueError) as exc:
            return SchemaProblem(f"the schema is not plain JSON: {exc}")
        if len(canonical) > self._max_schema_bytes:
            return SchemaProblem(f"the schema is larger than {self._max_schema_bytes} bytes")
        digest = hashlib.sha256(canonical).hexdigest()
        with self._lock:
            found = self._entries.get(digest)
            if found is not None:
                self._entries.move_to_end(digest)
                self._hits += 1
                return found
            self._misses += 1
        # Compile outside the lock: two threads racing on a new schema both compile, which
        # is harmless (same result) and keeps a slow compile from blocking every lookup.
        compiled = _compile(schema, digest, self._max_depth, self._formats)
        with self._lock:
            self._entries[digest] = compiled
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return compiled
