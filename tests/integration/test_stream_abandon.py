"""A stream whose response could not even start is still settled (the relay never ran its cleanup)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from litestar.exceptions import LitestarException

from proxy.app import create_app
from proxy.settings import load_settings
from tests.support.gateway import demo_config, make_key

if TYPE_CHECKING:
    from pathlib import Path


async def test_reservation_is_settled_when_the_response_start_fails(tmp_path: Path) -> None:
    config = demo_config(tenants=[{"id": "acme", "limits": {"spend": {"usd": 1}}}])
    config["models"][0]["price"] = {"input_per_mtok_usd": 1, "output_per_mtok_usd": 1}
    path = tmp_path / "gateway.yaml"
    path.write_bytes(msgspec.yaml.encode(config))
    key, record = make_key("acme")
    app = create_app(load_settings(path, environ={}), extra_keys=(record,))
    gateway = app.state.gateway
    body = msgspec.json.encode({"model": "echo", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "state": {},
    }
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            raise OSError("client went away")  # the relay never gets to run

    with pytest.raises(LitestarException) as info:  # Litestar wraps errors raised after the response started
        await app(scope, receive, send)  # type: ignore[arg-type]
    causes: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any(isinstance(c, OSError) for c in causes)
    usage = await gateway.limits.usage("acme")
    assert usage.open_reservations == 0
    assert usage.spent_micro_usd > 0  # the prompt was charged: the fake produced the stream
