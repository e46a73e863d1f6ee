"""The I/O shell of the gateway: HTTP app, auth, limits, cache, routing, providers, upstream, telemetry."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
