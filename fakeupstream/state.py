"""The fake upstream's mutable state: scripts, ``fail_first`` counters and per-request records.

One ``State`` per server. The server's event loop mutates it while tests read it from
another thread (``FakeUpstream.stats()``), so every access holds one lock. Timestamps are
``time.monotonic()``: on Linux that clock is system-wide, so a test in another process can
compare them with its own ``time.monotonic()`` readings.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import msgspec

from fakeupstream.directives import Directive, merge_settings, parse_directive, split_settings

__all__ = ["RequestRecord", "State", "Stats", "UsageRecord"]

_MAX_RECORDS = 2000


class UsageRecord(msgspec.Struct, kw_only=True):
    """Usage the fake reported to its client, in OpenAI terms (Anthropic cache tokens included in prompt)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class RequestRecord(msgspec.Struct, kw_only=True):
    """What happened to one request."""

    id: int
    path: str
    model: str
    stream: bool
    started: float
    directive: str = ""
    body: object = None
    """The decoded JSON body the fake received (what the gateway sent upstream)."""
    status: int = 0
    """HTTP status sent; 0 when no headers were sent."""
    outcome: str = "open"
    """``open``, ``completed``, ``client_disconnected``, ``fault`` or ``error``."""
    ended: float | None = None
    client_disconnected: bool = False
    disconnected_at: float | None = None
    chunks_sent: int = 0
    usage: UsageRecord | None = None
    """Set only when the usage reached the wire (a final usage chunk or ``message_delta``)."""


class Stats(msgspec.Struct, kw_only=True):
    """A snapshot of the counters and records (``GET /_control/stats``)."""

    total: int
    by_path: dict[str, int]
    by_model: dict[str, int]
    open_streams: int
    records: list[RequestRecord]


class State:
    """Thread-safe state of one fake upstream server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._default: dict[str, str] = {}
        self._queue: deque[dict[str, str]] = deque()
        self._fail_counts: dict[str, int] = {}
        self._records: deque[RequestRecord] = deque(maxlen=_MAX_RECORDS)
        self._by_path: dict[str, int] = {}
        self._by_model: dict[str, int] = {}
        self._total = 0
        self._open = 0
        self._next_id = 0

    def set_script(self, directive: str, count: int | None = None) -> None:
        """Set the default directive (``count`` None) or queue it for the next ``count`` requests.

        Raises:
            DirectiveError: the directive does not parse.
        """
        settings = split_settings(directive, skip_name=False)
        parse_directive(settings)
        with self._lock:
            if count is None:
                self._default = settings
            else:
                self._queue.extend(dict(settings) for _ in range(count))

    def reset(self) -> None:
        """Forget scripts, counters and records."""
        with self._lock:
            self._default = {}
            self._queue.clear()
            self._fail_counts.clear()
            self._records.clear()
            self._by_path.clear()
            self._by_model.clear()
            self._total = 0
            self._next_id = 0

    def begin(self, path: str, model: str, stream: bool, body: object) -> tuple[RequestRecord, Directive, bool]:
        """Record a new request and resolve its directive.

        Returns:
            The record, the directive, and whether ``fail_first`` makes this request fail.

        Raises:
            DirectiveError: the model name's directive does not parse.
        """
        with self._lock:
            self._total += 1
            self._by_path[path] = self._by_path.get(path, 0) + 1
            self._by_model[model] = self._by_model.get(model, 0) + 1
            self._next_id += 1
            record = RequestRecord(
                id=self._next_id, path=path, model=model, stream=stream, started=time.monotonic(), body=body
            )
            self._records.append(record)
            queued = self._queue.popleft() if self._queue else {}
            try:
                directive = parse_directive(
                    merge_settings(self._default, queued, split_settings(model, skip_name=True))
                )
            except ValueError:
                record.outcome = "error"
                record.ended = record.started
                raise
            record.directive = directive.key
            seen = self._fail_counts.get(directive.key, 0)
            self._fail_counts[directive.key] = seen + 1
            return record, directive, seen < directive.fail_first

    def stream_opened(self) -> None:
        """A streaming response sent its headers."""
        with self._lock:
            self._open += 1

    def stream_closed(self) -> None:
        """A streaming response ended, whatever the reason."""
        with self._lock:
            self._open -= 1

    def update(self, record: RequestRecord, **changes: object) -> None:
        """Set fields of a record atomically with respect to ``snapshot``."""
        with self._lock:
            for name, value in changes.items():
                setattr(record, name, value)

    def chunk_sent(self, record: RequestRecord) -> None:
        """Count one content chunk delivered."""
        with self._lock:
            record.chunks_sent += 1

    def disconnected(self, record: RequestRecord) -> None:
        """The client closed the connection before the response ended."""
        now = time.monotonic()
        with self._lock:
            if not record.client_disconnected:
                record.client_disconnected = True
                record.disconnected_at = now
            record.outcome = "client_disconnected"
            if record.ended is None:
                record.ended = now

    def finish(self, record: RequestRecord, outcome: str) -> None:
        """Close a record unless it already ended (a disconnect wins)."""
        with self._lock:
            if record.ended is None:
                record.ended = time.monotonic()
                record.outcome = outcome

    def snapshot(self) -> Stats:
        """A deep copy of the counters and records."""
        with self._lock:
            stats = Stats(
                total=self._total,
                by_path=dict(self._by_path),
                by_model=dict(self._by_model),
                open_streams=self._open,
                records=list(self._records),
            )
            return msgspec.json.decode(msgspec.json.encode(stats), type=Stats)
