"""SchemaCache: compile once per canonical schema, refuse bad or remote schemas, validate outputs."""

from __future__ import annotations

import threading

import pytest

from guards.structured.schema_cache import CacheInfo, CompiledSchema, SchemaCache, SchemaProblem

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def _compiled(cache: SchemaCache, schema: object) -> CompiledSchema:
    result = cache.compile(schema)
    assert isinstance(result, CompiledSchema), result
    return result


def _problem(schema: object, cache: SchemaCache | None = None) -> str:
    result = (cache or SchemaCache()).compile(schema)
    assert isinstance(result, SchemaProblem), result
    return result.message


def test_compiled_once_per_canonical_schema() -> None:
    cache = SchemaCache()
    first = _compiled(cache, PERSON)
    # Same schema with keys in another order: same canonical bytes, same compiled object.
    reordered = dict(reversed(list(PERSON.items())))
    assert _compiled(cache, reordered) is first
    assert cache.info() == CacheInfo(hits=1, misses=1, size=1)
    assert len(first.digest) == 64


def test_lru_is_bounded_and_keeps_recent_entries() -> None:
    cache = SchemaCache(max_entries=2)
    a = _compiled(cache, {"type": "string"})
    _compiled(cache, {"type": "integer"})
    assert _compiled(cache, {"type": "string"}) is a  # refreshes "string"
    _compiled(cache, {"type": "boolean"})  # evicts "integer", the least recently used
    assert cache.info().size == 2
    assert _compiled(cache, {"type": "string"}) is a
    before = cache.info().misses
    _compiled(cache, {"type": "integer"})
    assert cache.info().misses == before + 1


def test_problems_are_cached_too() -> None:
    cache = SchemaCache()
    assert cache.compile({"type": "nope"}) is cache.compile({"type": "nope"})
    assert cache.info() == CacheInfo(hits=1, misses=1, size=1)


def test_concurrent_compiles_agree() -> None:
    cache = SchemaCache()
    results: list[object] = []

    def worker() -> None:
        results.append(cache.compile(PERSON))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(result, CompiledSchema) for result in results)
    assert cache.info().size == 1
    assert cache.info().hits + cache.info().misses == 8


def test_validation_errors_name_the_path() -> None:
    compiled = _compiled(SchemaCache(), PERSON)
    assert compiled.errors({"name": "Ada", "age": 36}) == []
    assert compiled.errors({"name": "Ada", "age": "36"}) == ["$.age: '36' is not of type 'integer'"]
    assert compiled.errors({"name": "Ada"}) == ["$: 'age' is a required property"]
    assert compiled.errors({"name": "Ada", "age": 1, "x": 0}) == [
        "$: Additional properties are not allowed ('x' was unexpected)"
    ]
    assert len(compiled.errors({"age": -1, "x": 1}, limit=2)) == 2


def test_validation_error_of_a_combinator_names_the_closest_branch() -> None:
    schema = {"anyOf": [{"type": "object", "required": ["id"]}, {"type": "null"}]}
    errors = _compiled(SchemaCache(), schema).errors({"name": "x"})
    assert len(errors) == 1
    assert errors[0].startswith("$: {'name': 'x'} is not valid under any of the given schemas (closest match failed")


def test_long_messages_are_truncated() -> None:
    errors = _compiled(SchemaCache(), {"type": "integer"}).errors("x" * 5000)
    assert len(errors) == 1
    assert len(errors[0]) < 300
    assert errors[0].endswith("…")


def test_local_refs_resolve() -> None:
    schema = {
        "$defs": {"tag": {"type": "string", "maxLength": 3}},
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}}},
    }
    compiled = _compiled(SchemaCache(), schema)
    assert compiled.errors({"tags": ["ab"]}) == []
    assert compiled.errors({"tags": ["abcd"]}) == ["$.tags[0]: 'abcd' is too long"]


def test_embedded_ids_and_anchors_resolve() -> None:
    schema = {
        "$id": "https://schemas.example/root",
        "$defs": {"a": {"$id": "item", "type": "integer"}, "b": {"$anchor": "flag", "type": "boolean"}},
        "type": "object",
        "properties": {"n": {"$ref": "item"}, "f": {"$ref": "#flag"}},
    }
    compiled = _compiled(SchemaCache(), schema)
    assert compiled.errors({"n": 1, "f": True}) == []
    assert len(compiled.errors({"n": "1", "f": 0})) == 2


def test_recursive_schema_through_properties() -> None:
    schema = {
        "$defs": {
            "node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}
        },
        "$ref": "#/$defs/node",
    }
    compiled = _compiled(SchemaCache(), schema)
    assert compiled.errors({"children": [{"children": []}]}) == []
    assert compiled.errors({"children": [{"children": 1}]}) == ["$.children[0].children: 1 is not of type 'array'"]


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.com/schema.json",
        "http://169.254.169.254/latest",
        "file:///etc/passwd",
        "other.json",
        "#/$defs/missing",
    ],
)
def test_remote_and_dangling_refs_are_refused_without_network(ref: str) -> None:
    message = _problem({"type": "object", "properties": {"x": {"$ref": ref}}})
    assert message.startswith(f"unresolvable $ref {ref!r}")
    assert "never fetched" in message


def test_dynamic_ref_to_an_unknown_place_is_refused() -> None:
    assert _problem({"$dynamicRef": "https://example.com/x#meta"}).startswith("unresolvable $ref")


def test_ref_inside_const_data_is_not_treated_as_a_reference() -> None:
    compiled = _compiled(SchemaCache(), {"const": {"$ref": "https://example.com/x"}})
    assert compiled.errors({"$ref": "https://example.com/x"}) == []


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "nope"}, "invalid JSON schema at $.type"),
        ({"pattern": "("}, "invalid JSON schema at $.pattern: '(' is not a 'regex'"),
        ({"minLength": -1}, "invalid JSON schema at $.minLength"),
        ({"required": "name"}, "invalid JSON schema at $.required"),
        ({"$ref": "#"}, "infinite $ref recursion"),
        ({"$schema": "https://example.com/my-meta"}, "unsupported $schema"),
        ({"$schema": 7}, "unsupported $schema 7"),
        ([{"type": "string"}], "the schema must be a JSON object"),
        (True, "the schema must be a JSON object"),
        ({"type": object()}, "the schema is not plain JSON"),
    ],
)
def test_invalid_schemas_are_problems_not_exceptions(schema: object, fragment: str) -> None:
    assert fragment in _problem(schema)


def test_size_and_depth_limits() -> None:
    assert "larger than 100 bytes" in _problem({"description": "x" * 200}, SchemaCache(max_schema_bytes=100))
    deep: dict[str, object] = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"a": deep}}
    assert "nests deeper than 20 levels" in _problem(deep, SchemaCache(max_depth=20))
    assert isinstance(SchemaCache(max_depth=200).compile(deep), CompiledSchema)


def test_recursion_only_visible_at_validation_is_an_error_not_a_crash() -> None:
    compiled = _compiled(SchemaCache(), {"properties": {"a": {"$ref": "#/properties/a"}}})
    assert compiled.errors({"b": 1}) == []
    (message,) = compiled.errors({"a": 1})
    assert "recurses" in message


@pytest.mark.parametrize(
    ("declared", "accepts_bool_exclusive_max"),
    [
        ("https://json-schema.org/draft/2020-12/schema", False),
        ("http://json-schema.org/draft-07/schema#", False),
        ("http://json-schema.org/draft-04/schema#", True),
    ],
)
def test_known_drafts_are_honoured(declared: str, accepts_bool_exclusive_max: bool) -> None:
    # exclusiveMaximum is a boolean only in draft 4: the right meta-schema must be used.
    result = SchemaCache().compile({"$schema": declared, "maximum": 3, "exclusiveMaximum": True})
    assert isinstance(result, CompiledSchema) is accepts_bool_exclusive_max


def test_formats_are_asserted() -> None:
    schema = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "id": {"type": "string", "format": "uuid"},
        },
    }
    compiled = _compiled(SchemaCache(), schema)
    good = {"when": "2024-02-29T12:00:00Z", "mail": "a@example.com", "id": "12345678-1234-5678-1234-567812345678"}
    assert compiled.errors(good) == []
    assert compiled.errors({"when": "yesterday", "mail": "nobody", "id": "x"}) == [
        "$.when: 'yesterday' is not a 'date-time'",
        "$.mail: 'nobody' is not a 'email'",
        "$.id: 'x' is not a 'uuid'",
    ]
