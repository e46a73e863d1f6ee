"""Stored API keys: what the key store holds for each key (never the key itself, only its SHA-256 digest)."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["KeyRecord"]

Digest = Annotated[str, msgspec.Meta(pattern=r"^sha256:[0-9a-f]{64}$")]


class KeyRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One API key as stored (and as written in config): identity, owner, rights, state.

    Tolerant of unknown fields when decoded, so records written by a newer gateway can be read by an older
    replica during a rolling upgrade; frozen, so a cached record cannot be changed in place. It is a wire type
    but does not subclass ``WireStruct``: a frozen subclass of a non-frozen Struct is rejected by mypy.
    """

    key_id: str
    """Public, stable identifier (shown in logs and the admin API)."""
    tenant: str
    """Owning tenant id."""
    digest: Digest
    """``sha256:<64 hex>`` of the secret key."""
    scopes: tuple[str, ...] = ("chat",)
    """Granted scopes, e.g. ``chat``, ``system``, ``admin``."""
    models: tuple[str, ...] = ("*",)
    """Model alias glob patterns the key may use; ``*`` is every model."""
    created_at: int = 0
    """Creation time, Unix seconds."""
    revoked: bool = False
    """A revoked key stays listed but no longer authenticates."""
