"""StructuredSpec: response_format -> spec or 400-ready error, and checking outputs against it."""

from __future__ import annotations

import msgspec
import pytest

from guards.structured.schema_cache import SchemaCache
from guards.structured.spec import SpecError, StructuredSpec
from schemas.chat import ChatCompletionRequest, JsonSchemaFormat, ResponseFormat

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def _spec(fmt: object, cache: SchemaCache | None = None) -> StructuredSpec:
    spec = StructuredSpec.from_response_format(fmt, cache=cache or SchemaCache())  # type: ignore[arg-type]
    assert isinstance(spec, StructuredSpec), spec
    return spec


def _error(fmt: object) -> SpecError:
    error = StructuredSpec.from_response_format(fmt, cache=SchemaCache())  # type: ignore[arg-type]
    assert isinstance(error, SpecError), error
    assert error.param == "response_format"
    return error


def test_text_and_absent_formats_need_no_checking() -> None:
    assert StructuredSpec.from_response_format(None, cache=SchemaCache()) is None
    assert StructuredSpec.from_response_format(ResponseFormat(type="text"), cache=SchemaCache()) is None
    assert StructuredSpec.from_response_format({"type": "text"}, cache=SchemaCache()) is None


def test_from_a_decoded_request() -> None:
    body = msgspec.json.encode(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "person", "schema": PERSON, "strict": True},
            },
        }
    )
    request = msgspec.json.decode(body, type=ChatCompletionRequest)
    spec = _spec(request.response_format)
    assert (spec.kind, spec.name, spec.strict) == ("json_schema", "person", True)
    assert spec.root_kinds == frozenset({"object"})
    assert spec.validate_text('{"name": "Ada", "age": 36}') == []


def test_json_schema_validation() -> None:
    spec = _spec(ResponseFormat(type="json_schema", json_schema=JsonSchemaFormat(name="person", schema=PERSON)))
    assert spec.strict is False
    assert spec.validate_text('{"name": "Ada", "age": "36"}') == ["$.age: '36' is not of type 'integer'"]
    assert spec.validate_text('{"name": "Ada"') == ["invalid JSON at character 14: the document is incomplete"]
    assert spec.validate_text('[{"name": "Ada"}]') == [
        "invalid JSON at character 0: the top-level value must be object, found array"
    ]
    assert spec.validate_text('```json\n{"name": "Ada", "age": 1}\n```') == [
        "invalid JSON at character 0: expected a JSON value, found '`'"
    ]


def test_streaming_use() -> None:
    spec = _spec({"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}})
    checker = spec.new_checker()
    for delta in ['{"na', 'me": "Ada", ', '"age": 3', "6}"]:
        assert checker.feed(delta) is None
    assert spec.finish(checker) == []

    checker = spec.new_checker()
    assert checker.feed('{"name": "Ada", "age": 36') is None
    assert spec.finish(checker) == ["invalid JSON at character 25: the document is incomplete"]

    checker = spec.new_checker()
    assert checker.feed('{"name": "Ada", "age": 36}') is None
    assert (
        checker.feed(" Sure! Here") == "invalid JSON at character 27: unexpected 'S' after the end of the JSON document"
    )

    checker = spec.new_checker()
    assert checker.feed('{"name": 7, "age": 36}') is None  # syntax fine, schema wrong: found at the end
    assert spec.finish(checker) == ["$.name: 7 is not of type 'string'"]


def test_json_object_mode() -> None:
    spec = _spec({"type": "json_object"})
    assert (spec.kind, spec.compiled) == ("json_object", None)
    assert spec.validate_text('{"anything": [1, 2]}') == []
    assert spec.validate_text("[1]") == ["invalid JSON at character 0: the top-level value must be object, found array"]
    assert spec.validate_value([1]) == ["$: the output must be a JSON object, not array"]
    assert spec.validate_value({}) == []


def test_json_schema_without_a_schema_accepts_any_json() -> None:
    spec = _spec({"type": "json_schema", "json_schema": {"name": "anything"}})
    assert spec.compiled is None
    assert spec.root_kinds is None
    assert spec.validate_text("[1, 2]") == []
    assert spec.validate_text("[1, 2") == ["invalid JSON at character 5: the document is incomplete"]


@pytest.mark.parametrize(
    ("schema", "kinds"),
    [
        ({"type": "integer"}, frozenset({"number"})),
        ({"type": ["string", "null"]}, frozenset({"string", "null"})),
        ({"properties": {"a": {"type": "string"}}}, None),
    ],
)
def test_root_kinds_from_schema_type(schema: dict[str, object], kinds: frozenset[str] | None) -> None:
    spec = _spec({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert spec.root_kinds == kinds
    checker = spec.new_checker()
    assert (checker.feed("true") is None) is (kinds is None)


def test_schema_is_compiled_once_across_requests() -> None:
    cache = SchemaCache()
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}
    first, second = _spec(fmt, cache), _spec(fmt, cache)
    assert first.compiled is second.compiled
    assert cache.info().misses == 1


@pytest.mark.parametrize(
    ("fmt", "fragment"),
    [
        ({"type": "json_schema"}, "response_format.json_schema is required"),
        ({"type": "json_schema", "json_schema": {"name": "has space", "schema": {}}}, "json_schema.name must be"),
        ({"type": "json_schema", "json_schema": {"name": "x" * 65, "schema": {}}}, "json_schema.name must be"),
        (
            {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "nope"}}},
            "json_schema.schema: invalid JSON schema",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "p", "schema": {"$ref": "https://evil.example/s.json"}}},
            "json_schema.schema: unresolvable $ref",
        ),
        ({"type": "yaml"}, "invalid response_format: Invalid enum value 'yaml'"),
        (
            {"type": "json_schema", "json_schema": {"schema": {}}},
            "invalid response_format: Object missing required field `name`",
        ),
    ],
)
def test_unusable_formats_become_spec_errors(fmt: object, fragment: str) -> None:
    assert fragment in _error(fmt).message
