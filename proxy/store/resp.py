"""A lean lane for the limit scripts: EVALSHA over one pipelined RESP connection, bypassing redis-py's command path.

Admission and settlement are two EVALSHA calls on every request. Through redis-py's asyncio client each
cost about 530 k instructions of client-side work (argument encoding one value at a time, a task per
send for its write timeout, retry and observability wrappers, pool checkout), measured with callgrind;
this lane costs about 190 k: the command is packed in one pass, written to one connection shared by
every in-flight call (Redis answers in order, so replies are matched first-in first-out), and parsed by
hiredis.

It is used only where it is exactly equivalent: a standalone server over plain TCP (``redis://``), with
the client's own host, port, credentials, database and timeouts. TLS, Unix sockets and Redis Cluster keep
going through redis-py. Failures keep redis-py's meaning: a refused or lost connection, or a reply that did
not come within the command timeout, is ``redis.exceptions.ConnectionError``/``TimeoutError`` (the store
maps them to ``StoreUnavailableError``), and the connection is dropped, so a late reply can never be taken
for another call's; the next call reconnects. An error reply becomes ``ResponseError`` (``NoScriptError``
for NOSCRIPT, which the store answers by loading the scripts). Retrying is safe: both scripts are
idempotent per reservation id.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING, Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ScriptLane", "lane_for", "pack_command"]


def pack_command(parts: Sequence[str | int | bytes]) -> bytes:
    """The RESP2 array of bulk strings for one command."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode() if isinstance(part, str) else b"%d" % part
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    """One connection: replies resolve the waiting futures in the order the commands were written."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._reader = hiredis.Reader()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but have its methods
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            if not self.waiting:
                break  # a reply nobody asked for: the connection is out of step; drop it
            future = self.waiting.popleft()
            if not future.done():  # a caller that was cancelled still had its reply in line
                future.set_result(reply)
        else:
            return
        self.close(RedisConnectionError("unexpected reply from Redis"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(RedisConnectionError("Redis closed the connection"))

    def close(self, error: Exception) -> None:
        """Fail every waiting call and close the transport (idempotent)."""
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class ScriptLane:
    """EVALSHA on one lazily (re)connected, pipelined connection to a standalone Redis."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        connect_timeout_s: float | None = None,
        command_timeout_s: float | None = None,
        retries: int = 0,
    ) -> None:
        self._host, self._port, self._db = host, port, db
        self._username, self._password = username, password
        self._connect_timeout = connect_timeout_s
        self._timeout = command_timeout_s
        self._retries = retries
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def evalsha(self, sha: str, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """Run a loaded script; connection failures are retried ``retries`` times on a new connection."""
        packed = pack_command(["EVALSHA", sha, len(keys), *keys, *args])
        attempt = 0
        while True:
            try:
                reply = await self._call(packed)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                attempt += 1
                if attempt > self._retries:
                    raise
                continue
            if isinstance(reply, hiredis.ReplyError):
                message = str(reply)
                raise NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)
            return reply

    async def _call(self, packed: bytes) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.lost:
            protocol = await self._connect()
        assert protocol.transport is not None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        protocol.waiting.append(future)
        protocol.transport.write(packed)
        try:
            async with asyncio.timeout(self._timeout):
                return await future
        except TimeoutError:
            # The reply may still come: the connection is out of step for everyone queued behind it.
            protocol.close(RedisTimeoutError("Timeout reading from Redis"))
            raise RedisTimeoutError("Timeout reading from Redis") from None

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and not self._protocol.lost:
                return self._protocol
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(self._connect_timeout):
                    _, protocol = await loop.create_connection(_Protocol, self._host, self._port)
            except TimeoutError:
                raise RedisTimeoutError("Timeout connecting to Redis") from None
            except OSError as exc:
                raise RedisConnectionError(f"Error connecting to Redis: {type(exc).__name__}") from exc
            setup: list[list[str | int | bytes]] = []
            if self._password is not None:
                setup.append(["AUTH", self._username, self._password] if self._username else ["AUTH", self._password])
            if self._db:
                setup.append(["SELECT", self._db])
            self._protocol = protocol
            for command in setup:
                reply = await self._call(pack_command(command))
                if isinstance(reply, hiredis.ReplyError):
                    # Never the reply text or the command: it may carry the password.
                    protocol.close(RedisConnectionError("Redis refused the connection setup"))
                    raise RedisConnectionError("Redis refused the connection setup (AUTH or SELECT)")
            return protocol

    def close(self) -> None:
        """Drop the connection (calls still waiting fail)."""
        if self._protocol is not None:
            self._protocol.close(RedisConnectionError("the store was closed"))
            self._protocol = None


def lane_for(client: object) -> ScriptLane | None:
    """A lane with ``client``'s connection settings, or ``None`` when it is not plain TCP to a standalone Redis."""
    if type(client) is not Redis:
        return None
    pool = client.connection_pool
    if pool.connection_class is not Connection:
        return None  # TLS, Unix socket or a custom connection: keep redis-py
    kwargs = pool.connection_kwargs
    retry = kwargs.get("retry")
    return ScriptLane(
        str(kwargs.get("host", "localhost")),
        int(kwargs.get("port", 6379)),
        db=int(kwargs.get("db", 0) or 0),
        username=kwargs.get("username"),
        password=kwargs.get("password"),
        connect_timeout_s=kwargs.get("socket_connect_timeout"),
        command_timeout_s=kwargs.get("socket_timeout"),
        retries=retry.get_retries() if retry is not None else 0,
    )
