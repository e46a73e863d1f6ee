"""The limit scripts' pipelined lane (``proxy.store.resp``) against a real Redis, and against a server that hangs."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
import uvloop
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from proxy.store.connection import create_redis
from proxy.store.resp import ScriptLane, lane_for, pack_command
from schemas.store import StoreConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.redis import RedisServer

pytestmark = pytest.mark.redis

ECHO = "return {tonumber(ARGV[1]), ARGV[2]}"
FAIL = "return redis.call('INCR', KEYS[1], 'too', 'many')"
SET = "redis.call('SET', KEYS[1], ARGV[1]) return 1"


def test_pack_command_is_resp2_bulk_strings() -> None:
    assert (
        pack_command(["EVALSHA", "ab", 1, b"k\r\n"]) == b"*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$3\r\nk\r\n\r\n"
    )


def test_lane_only_for_plain_tcp_standalone() -> None:
    plain = create_redis(StoreConfig(kind="redis", url="redis://u:secret@10.0.0.1:6380/3", command_timeout_s=0.3))
    lane = lane_for(plain)
    assert lane is not None
    assert lane_for(create_redis(StoreConfig(kind="redis", url="rediss://10.0.0.1:6380/0"))) is None
    assert lane_for(create_redis(StoreConfig(kind="redis", url="unix:///tmp/redis.sock"))) is None
    assert lane_for(object()) is None


async def _scripts(url: str) -> tuple[Redis, str, str, str]:
    admin = Redis.from_url(url)
    return admin, await admin.script_load(ECHO), await admin.script_load(FAIL), await admin.script_load(SET)


async def _replies_match_calls_when_pipelined(url: str) -> None:
    admin, echo, fail, _ = await _scripts(url)
    lane = lane_for(create_redis(StoreConfig(kind="redis", url=url)))
    assert lane is not None
    try:
        replies = await asyncio.gather(*(lane.evalsha(echo, [], [i, f"v{i}"]) for i in range(200)))
        assert replies == [[i, f"v{i}".encode()] for i in range(200)]
        with pytest.raises(ResponseError) as failed:
            await lane.evalsha(fail, ["k"], [])
        assert not isinstance(failed.value, NoScriptError)
        with pytest.raises(NoScriptError):
            await lane.evalsha("0" * 40, [], [])
        # A caller that gave up still had its reply in line: the next caller gets its own.
        abandoned = asyncio.ensure_future(lane.evalsha(echo, [], [1, "abandoned"]))
        await asyncio.sleep(0)
        abandoned.cancel()
        assert await lane.evalsha(echo, [], [2, "mine"]) == [2, b"mine"]
    finally:
        lane.close()
        await admin.aclose()


async def test_replies_match_calls_when_pipelined(redis_server: RedisServer) -> None:
    await _replies_match_calls_when_pipelined(redis_server.url)


def test_replies_match_calls_under_uvloop(redis_server: RedisServer) -> None:
    """The gateway runs on uvloop, whose transports are not ``asyncio.Transport`` subclasses."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_replies_match_calls_when_pipelined(redis_server.url))


async def test_selects_the_database_of_the_url(redis_server: RedisServer) -> None:
    url = redis_server.url.rsplit("/", 1)[0] + "/5"
    admin, _, _, set_sha = await _scripts(url)
    lane = lane_for(create_redis(StoreConfig(kind="redis", url=url)))
    assert lane is not None
    try:
        assert await lane.evalsha(set_sha, ["lane-db"], ["x"]) == 1
        assert await admin.get("lane-db") == b"x"  # admin is on db 5 too
        await admin.delete("lane-db")
    finally:
        lane.close()
        await admin.aclose()


async def test_down_server_is_a_connection_error_and_a_restart_recovers(
    redis_server_factory: Callable[[], RedisServer],
) -> None:
    server = redis_server_factory()
    lane = lane_for(create_redis(StoreConfig(kind="redis", url=server.url, connect_timeout_s=0.2)))
    assert lane is not None
    admin, echo, _, _ = await _scripts(server.url)
    try:
        assert await lane.evalsha(echo, [], [1, "a"]) == [1, b"a"]
        server.stop()
        with pytest.raises(RedisConnectionError):
            await lane.evalsha(echo, [], [1, "a"])
        server.start()  # empty script cache: NOSCRIPT, which the store answers by loading the scripts
        with pytest.raises(NoScriptError):
            await lane.evalsha(echo, [], [1, "a"])
    finally:
        lane.close()
        await admin.aclose()


async def test_a_reply_that_never_comes_times_out_and_fails_the_queue() -> None:
    received: list[bytes] = []
    handlers: list[asyncio.Task[None]] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(1 << 16))
        while await reader.read(1 << 16):  # never answer; wait for the client to hang up
            pass
        writer.close()
        await writer.wait_closed()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await hold(reader, writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lane = ScriptLane("127.0.0.1", port, command_timeout_s=0.1, retries=1)
    try:
        first = asyncio.ensure_future(lane.evalsha("a" * 40, [], []))
        second = asyncio.ensure_future(lane.evalsha("b" * 40, [], []))
        for call in (first, second):
            with pytest.raises((RedisTimeoutError, RedisConnectionError)):
                await call
        assert received
        assert received[0].startswith(b"*3\r\n$7\r\nEVALSHA\r\n")
    finally:
        lane.close()
        server.close()
        await server.wait_closed()
        await asyncio.wait_for(asyncio.gather(*handlers), 2)  # every connection the lane made was hung up
