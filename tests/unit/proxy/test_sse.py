"""The incremental SSE decoder: grammar, and the chunk-split invariance property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.sse import DONE, SSEDecodeError, SSEDecoder, SSEEvent, encode_data, encode_error
from schemas.errors import ErrorBody


def decode_all(parts: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for part in parts:
        events.extend(decoder.decode(part))
    events.extend(decoder.flush())
    return events


def test_lf_cr_and_crlf_line_endings_are_equivalent() -> None:
    for sep in (b"\n", b"\r", b"\r\n"):
        stream = b"event: x" + sep + b"data: a" + sep + b"data: b" + sep + sep + b"data: c" + sep + sep
        assert decode_all([stream]) == [SSEEvent("a\nb", "x"), SSEEvent("c")]


def test_comments_ignored_id_and_retry_kept_and_no_space_after_colon() -> None:
    stream = b": keep-alive\nid: 7\nretry: 1500\ndata:tight\n\n"
    assert decode_all([stream]) == [SSEEvent("tight", "", "7", 1500)]


def test_event_without_data_is_not_dispatched_and_event_type_resets() -> None:
    stream = b"event: ping\n\ndata: x\n\n"
    assert decode_all([stream]) == [SSEEvent("x", "")]


def test_crlf_split_across_reads_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\r") == []
    assert decoder.decode(b"\n\r\n") == [SSEEvent("a")]


def test_multibyte_utf8_split_across_reads() -> None:
    payload = "data: héllo ✓\n\n".encode()
    assert decode_all([payload[:8], payload[8:9], payload[9:]]) == [SSEEvent("héllo ✓")]


def test_unterminated_last_event_is_dispatched_at_flush() -> None:
    assert decode_all([b'data: {"a": 1}']) == [SSEEvent('{"a": 1}')]


def test_invalid_utf8_and_oversized_lines_are_errors() -> None:
    with pytest.raises(SSEDecodeError):
        decode_all([b"data: \xff\xfe\n\n"])
    decoder = SSEDecoder(max_line_bytes=16)
    with pytest.raises(SSEDecodeError):
        decoder.decode(b"data: " + b"x" * 64)


def test_encoder_frames() -> None:
    assert encode_data(b'{"a":1}') == b'data: {"a":1}\n\n'
    assert DONE == b"data: [DONE]\n\n"
    frame = encode_error(ErrorBody(message="m", type="t", code="c"))
    assert frame == b'data: {"error":{"message":"m","type":"t","param":null,"code":"c"}}\n\n'


_lines = st.lists(
    st.one_of(
        st.builds(lambda t: b"data: " + t.encode(), st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]))),
        st.just(b": comment"),
        st.just(b"event: delta"),
        st.just(b""),
    ),
    max_size=30,
)


@given(lines=_lines, sep=st.sampled_from([b"\n", b"\r", b"\r\n"]), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_output_does_not_depend_on_how_bytes_were_split(lines: list[bytes], sep: bytes, cuts: list[int]) -> None:
    stream = sep.join(lines) + sep + sep
    whole = decode_all([stream])
    points = sorted({c % (len(stream) + 1) for c in cuts})
    parts = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert decode_all(parts) == whole


def test_events_before_a_bad_line_are_delivered_then_the_error_is_raised() -> None:
    decoder = SSEDecoder()
    events = decoder.decode(b"data: one\n\ndata: two\n\ndata: \xff\n\n")
    assert events == [SSEEvent("one"), SSEEvent("two")]
    with pytest.raises(SSEDecodeError):
        decoder.decode(b"data: three\n\n")
