"""The fake upstream's aiohttp application, its control API, and ``FakeUpstream`` (a server in a thread).

Routes:

* ``POST /v1/chat/completions``, ``GET /v1/models``: OpenAI (``openai_api``);
* ``POST /v1/messages``: Anthropic (``anthropic_api``);
* ``POST /_control/script`` ``{"directive": "...", "count": N | null}``: set the default directive
  (``count`` null) or queue it for the next N requests;
* ``GET /_control/stats``: counters and per-request records (``state.Stats``);
* ``POST /_control/reset``: forget scripts, counters and records.

The server runs with ``handler_cancellation=True`` so that a client disconnect cancels the
handler at once, even in the middle of a hang: that is how the fake observes "connection
closed" within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import TYPE_CHECKING, Self

import msgspec
from aiohttp import web

from fakeupstream import anthropic_api, openai_api
from fakeupstream.appkeys import API_KEY, STATE
from fakeupstream.directives import DirectiveError
from fakeupstream.state import State, Stats

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

__all__ = ["FakeUpstream", "make_app"]


class _Script(msgspec.Struct):
    directive: str
    count: int | None = None


async def _script(request: web.Request) -> web.Response:
    try:
        script = msgspec.json.decode(await request.read(), type=_Script)
        request.app[STATE].set_script(script.directive, script.count)
    except (msgspec.DecodeError, DirectiveError) as exc:
        return web.json_response({"error": str(exc)}, status=400, dumps=_dumps)
    return web.json_response({"ok": True}, dumps=_dumps)


async def _stats(request: web.Request) -> web.Response:
    return web.Response(body=msgspec.json.encode(request.app[STATE].snapshot()), content_type="application/json")


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"ok": True}, dumps=_dumps)


def _dumps(value: object) -> str:
    return msgspec.json.encode(value).decode()


def make_app(state: State, api_key: str = "") -> web.Application:
    """Build the application around ``state``; with ``api_key``, requests must carry that key."""
    app = web.Application()
    app[STATE] = state
    app[API_KEY] = api_key
    app.router.add_post("/v1/chat/completions", openai_api.chat_completions)
    app.router.add_get("/v1/models", openai_api.models)
    app.router.add_post("/v1/messages", anthropic_api.messages)
    app.router.add_post("/_control/script", _script)
    app.router.add_get("/_control/stats", _stats)
    app.router.add_post("/_control/reset", _reset)
    return app


class FakeUpstream:
    """A fake upstream served from a background thread with its own event loop.

    Usage::

        with FakeUpstream() as fake:
            client = openai.OpenAI(base_url=fake.base_url + "/v1", api_key="x")
            ...
            assert fake.stats().total == 1
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str = "") -> None:
        self.state = State()
        self._host = host
        self._port = port
        self._api_key = api_key
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._base_url = ""

    @property
    def base_url(self) -> str:
        """``http://host:port`` (no trailing slash, no ``/v1``)."""
        if not self._base_url:
            raise RuntimeError("FakeUpstream is not started")
        return self._base_url

    def start(self) -> str:
        """Start serving; return the base URL."""
        ready = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(ready, errors), name="fake-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self.base_url

    def _serve(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._setup())
        except OSError as exc:  # e.g. the port is taken: reported to start()
            errors.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    async def _setup(self) -> None:
        self._runner = web.AppRunner(
            make_app(self.state, self._api_key), handler_cancellation=True, shutdown_timeout=0.2, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self._base_url = f"http://{self._host}:{port}"

    def stop(self) -> None:
        """Stop serving and join the thread (open connections are closed)."""
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or thread is None:
            return
        if runner is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
            with contextlib.suppress(Exception):
                future.result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._runner = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stats(self) -> Stats:
        """A snapshot of the counters and records."""
        return self.state.snapshot()

    def script(self, directive: str, count: int | None = None) -> None:
        """Set the default directive, or queue it for the next ``count`` requests."""
        self.state.set_script(directive, count)

    def reset(self) -> None:
        """Forget scripts, counters and records."""
        self.state.reset()

    def wait_for(self, predicate: Callable[[Stats], bool], timeout: float = 5.0) -> Stats:
        """Poll the stats until ``predicate`` holds; return them, or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats):
                return stats
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fake upstream stats did not reach the expected state in {timeout} s")
            time.sleep(0.01)
