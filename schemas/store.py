"""Configuration of the shared store (``store:`` in the gateway YAML).

``kind: memory`` is the embedded default: one process, no dependencies, the same contract as Redis (so it is
only exact for a single replica). ``kind: redis`` points at a standalone server or, with ``cluster: true``, at
any node of a Redis Cluster.

Timeouts are deliberately short: the store sits on every request's path, and a limit that fails closed should
answer 503 quickly rather than hold the request for the client library's default of five seconds per attempt.
Retries are safe because admission and settlement are idempotent per reservation id.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct

__all__ = ["StoreConfig"]


class StoreConfig(ConfigStruct, kw_only=True):
    """Where shared state (limits, reservations, API keys) lives."""

    kind: Literal["memory", "redis"] = "memory"
    """``memory`` (embedded, single process) or ``redis``."""
    url: str = "redis://127.0.0.1:6379/0"
    """Redis URL; with ``cluster: true`` any one node of the cluster (the rest are discovered)."""
    cluster: bool = False
    """Connect with the Redis Cluster client (keys are hash-tagged per tenant, so scripts stay in one slot)."""
    connect_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    """TCP connect timeout for a new connection."""
    command_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    """Socket read/write timeout for one command."""
    retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 1
    """Extra attempts on a connection error or timeout before the limit's fail mode applies."""
    max_connections: Annotated[int, msgspec.Meta(ge=1)] = 64
    """Connection pool size per process (per node for a cluster)."""
    reservation_lease_s: Annotated[float, msgspec.Meta(ge=1, le=86_400)] = 600.0
    """A spend reservation not settled within this time (its replica died) is closed and charged in full.
    Longer than the longest stream you serve: a stream outliving its lease is charged in full."""
