"""``proxy.asgi:app``: the app for uvicorn worker processes (config path from ``GATEWAY_CONFIG``)."""

from __future__ import annotations

from proxy.app import create_app
from proxy.server import freeze_startup_heap
from proxy.settings import config_path_from_env, load_settings, prepare_environment

__all__ = ["app"]

prepare_environment()
app = create_app(load_settings(config_path_from_env()))
freeze_startup_heap()
