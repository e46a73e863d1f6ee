"""Incremental server-sent-events decoder (the WHATWG event-stream grammar).

``SSEDecoder.decode(bytes) -> list[SSEEvent]`` is fed whatever the socket delivered: events
may be split anywhere, including between the CR and LF of a CRLF or inside a multi-byte
UTF-8 character. Lines end in CR, LF or CRLF; ``data`` lines accumulate; comment lines
(``:``) are dropped; an event is dispatched at a blank line. The work is linear: every
byte is scanned once, and only the unterminated tail is kept between calls.

One departure from the browser algorithm, on purpose: at end of stream (``flush()``) a
pending event without its final blank line is still dispatched. Providers and proxies
sometimes drop the last newline; the relay then decides from the event's content
(a truncated JSON body is a protocol error either way).
"""

from __future__ import annotations

import re

import msgspec

__all__ = ["SSEDecodeError", "SSEDecoder", "SSEEvent"]

_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSEDecodeError(ValueError):
    """The byte stream is not a valid event stream (bad UTF-8, or a line over the size cap)."""


class SSEEvent(msgspec.Struct, frozen=True):
    """One dispatched event."""

    data: str
    event: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns arbitrary byte chunks into events. Not thread-safe; one per stream."""

    def __init__(self, max_line_bytes: int = 4 * 1024 * 1024) -> None:
        self._tail = b""
        self._skip_lf = False
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._max_line = max_line_bytes
        self._error: SSEDecodeError | None = None

    def decode(self, chunk: bytes) -> list[SSEEvent]:
        """Feed the next bytes; return the events they completed.

        Events completed before an invalid line are returned; the error is raised by the next
        ``decode`` or ``flush`` (so a relay delivers what was valid before failing).
        """
        if self._error is not None:
            raise self._error
        events: list[SSEEvent] = []
        try:
            self._decode(chunk, events)
        except SSEDecodeError as exc:
            if not events:
                raise
            self._error = exc
        return events

    def _decode(self, chunk: bytes, events: list[SSEEvent]) -> None:
        if not chunk:
            return
        buf = self._tail + chunk if self._tail else chunk
        start = 0
        if self._skip_lf:
            self._skip_lf = False
            if buf[:1] == b"\n":
                start = 1
        if b"\r" not in buf:
            # The common case (every major provider ends lines with LF): split in C, no regex.
            lines = buf[start:].split(b"\n")
            for line in lines[:-1]:
                self._line(line, events)
            self._tail = lines[-1]
            if len(self._tail) > self._max_line:
                raise SSEDecodeError("event-stream line exceeds the size limit")
            return
        for match in _LINE_END.finditer(buf, start):
            self._line(buf[start : match.start()], events)
            start = match.end()
            if match.end() == len(buf) and buf[-1:] == b"\r":
                # A CR that ends the chunk may be the first half of a CRLF split across reads.
                self._skip_lf = True
        self._tail = buf[start:]
        if len(self._tail) > self._max_line:
            raise SSEDecodeError("event-stream line exceeds the size limit")

    def flush(self) -> list[SSEEvent]:
        """End of stream: process an unterminated last line and dispatch a pending event."""
        if self._error is not None:
            raise self._error
        events: list[SSEEvent] = []
        if self._tail:
            self._line(self._tail, events)
            self._tail = b""
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:
            if self._data:
                events.append(SSEEvent("\n".join(self._data), self._event, self._id, self._retry))
            self._data = []
            self._event = ""
            self._retry = None
            return
        if line[:1] == b":":
            return
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SSEDecodeError("event-stream is not valid UTF-8") from exc
        name, sep, value = text.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
