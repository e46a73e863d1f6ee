"""The one place that speaks HTTP to providers: a pooled aiohttp session per process.

``UpstreamClient.open(request, timeouts)`` sends one streaming request and returns an
``HttpResponse`` once the status and headers arrived. Every aiohttp and timeout
exception is mapped here, at one boundary, to the gateway's upstream errors (the shape of
httpx's ``map_httpcore_exceptions``), each raised ``from`` the original:

* connect failures (refused, DNS, reset before headers) -> ``UpstreamUnavailableError``
* no headers within ``first_byte``, or no chunk within ``idle`` -> ``UpstreamTimeoutError``
* the connection dropped or garbled mid-body -> ``UpstreamProtocolError``

Closing a response that was not read to the end closes its connection instead of returning
it to the pool, so the provider sees the client go away (and stops generating).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import aiohttp

from proxy.errors import UpstreamProtocolError, UpstreamTimeoutError, UpstreamUnavailableError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    from proxy.providers.base import UpstreamRequest
    from schemas.providers import Timeouts

__all__ = ["HttpResponse", "UpstreamClient"]

_MAX_ERROR_BODY = 64 * 1024


@contextlib.contextmanager
def _mapped(phase: str) -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:
        raise UpstreamTimeoutError(f"upstream timed out ({phase})") from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamUnavailableError("upstream connection failed") from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        if phase == "headers":
            raise UpstreamUnavailableError("upstream closed the connection before answering") from exc
        raise UpstreamProtocolError("upstream closed the connection mid-stream") from exc
    except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise UpstreamProtocolError(f"malformed upstream response ({phase})") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailableError(f"upstream request failed ({phase})") from exc


class HttpResponse:
    """An open upstream response. Read ``chunks()`` or ``read()``, then ``aclose()``."""

    def __init__(self, response: aiohttp.ClientResponse, idle_timeout: float) -> None:
        self._response = response
        self._idle = idle_timeout
        self._finished = False

    @property
    def status(self) -> int:
        """HTTP status of the response."""
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers (case-insensitive)."""
        return self._response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield body bytes as they arrive; a silence longer than the idle timeout raises."""
        content = self._response.content
        while True:
            with _mapped("body"):
                async with asyncio.timeout(self._idle):
                    data = await content.readany()
            if not data:
                self._finished = True
                return
            yield data

    async def read(self, limit: int = _MAX_ERROR_BODY) -> bytes:
        """Read at most ``limit`` bytes of the body (for error responses)."""
        with _mapped("body"):
            async with asyncio.timeout(self._idle):
                data = await self._response.content.read(limit)
        return data

    async def aclose(self) -> None:
        """Return the connection to the pool if the body was consumed, else close it."""
        if self._finished:
            self._response.release()
        else:
            self._response.close()


class UpstreamClient:
    """Owns the process's pooled aiohttp session; started and closed by the app lifespan."""

    def __init__(self, *, pool_size: int = 256) -> None:
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Create the session (it must be made inside the running event loop)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",)
            )

    async def aclose(self) -> None:
        """Close the session and every pooled connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def open(self, request: UpstreamRequest, timeouts: Timeouts) -> HttpResponse:
        """Send ``request``; return when the status line and headers arrived."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        # No sock_read: it would also bound the wait for headers, cutting ``first_byte`` down to
        # ``idle``. Headers are bounded by ``first_byte`` below, each body read by ``idle`` in chunks().
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect)
        with _mapped("headers"):
            async with asyncio.timeout(timeouts.first_byte):
                response = await self._session.request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=dict(request.headers),
                    timeout=timeout,
                    allow_redirects=False,
                )
        return HttpResponse(response, timeouts.idle)
