"""``python -m fakeupstream``: serve the fake upstream until interrupted.

``--port 0`` picks a free port; the first stdout line is always ``listening on http://HOST:PORT``
(flushed), so a parent process can read the address.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from aiohttp import web

from fakeupstream.server import make_app
from fakeupstream.state import State

__all__ = ["main"]


async def _serve(host: str, port: int, api_key: str) -> None:
    runner = web.AppRunner(make_app(State(), api_key), handler_cancellation=True, shutdown_timeout=0.2, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"listening on http://{host}:{bound}", flush=True)  # the parent process reads this line
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m fakeupstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--api-key", default="", help="require this key (Bearer or x-api-key); default: none")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.api_key))


if __name__ == "__main__":
    main()
