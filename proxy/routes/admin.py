"""The admin API under ``/admin/``: tenants, keys, usage, circuit breakers.

Authorised by the admin key (``admin.key_digest`` / ``admin.key_env``) or by any key with
the ``admin`` scope. New keys are returned once, in the creation response; only their
digests are stored. Revocation reaches every replica within the key-cache TTL.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery

from proxy.auth import digest_key, new_key, presented_key
from proxy.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError
from proxy.routes.deps import Gateway
from schemas.base import WireStruct

if TYPE_CHECKING:
    from schemas.keys import KeyRecord

__all__ = ["admin_routes"]

_encoder = msgspec.json.Encoder()
_Scope = Annotated[str, msgspec.Meta(pattern=r"^(chat|system|admin)$")]


class KeyCreate(WireStruct, kw_only=True):
    """``POST /admin/keys`` body."""

    tenant: str
    key_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")] | None = None
    scopes: tuple[_Scope, ...] = ("chat",)
    models: tuple[str, ...] = ("*",)


async def _require_admin(request: Request[Any, Any, Any], gateway: Gateway) -> None:
    key = presented_key(request.headers.get("authorization"), request.headers.get("x-api-key"))
    if not key:
        raise AuthenticationError("missing admin key")
    expected = gateway.settings.admin_digest
    if expected is not None and hmac.compare_digest(expected, digest_key(key)):
        return
    principal = await gateway.auth.authenticate(key)
    if not principal.has_scope("admin"):
        raise PermissionDeniedError("this API key does not have the 'admin' scope")


def _json(value: object, status: int = 200) -> Response[bytes]:
    return Response(_encoder.encode(value), status_code=status, media_type=MediaType.JSON)


def _public(record: KeyRecord) -> dict[str, object]:
    return {
        "key_id": record.key_id,
        "tenant": record.tenant,
        "scopes": list(record.scopes),
        "models": list(record.models),
        "created_at": record.created_at,
        "revoked": record.revoked,
    }


@get("/admin/tenants")
async def list_tenants(request: Request[Any, Any, Any], gateway: Gateway) -> Response[bytes]:
    """Configured tenants with their limits and guard policy."""
    await _require_admin(request, gateway)
    tenants = [
        {"id": t.id, "guard_policy": t.guard_policy, "limits": msgspec.to_builtins(t.limits)}
        for t in gateway.settings.config.tenants
    ]
    return _json({"data": tenants})


@get("/admin/keys")
async def list_keys(
    request: Request[Any, Any, Any], gateway: Gateway, tenant: FromQuery[str | None] = None
) -> Response[bytes]:
    """Keys (static and stored), without secrets."""
    await _require_admin(request, gateway)
    static = [k for k in gateway.auth.static_keys if tenant is None or k.tenant == tenant]
    stored = await gateway.store.list_keys(tenant)
    data = [{**_public(k), "source": "config"} for k in static] + [{**_public(k), "source": "store"} for k in stored]
    return _json({"data": data})


@post("/admin/keys", status_code=201)
async def create_key(request: Request[Any, Any, Any], gateway: Gateway) -> Response[bytes]:
    """Mint a key; the response is the only place its value ever appears."""
    await _require_admin(request, gateway)
    try:
        spec = msgspec.json.decode(await request.body(), type=KeyCreate)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InvalidRequestError(f"invalid key request: {exc}") from exc
    if gateway.auth.tenant(spec.tenant) is None:
        raise InvalidRequestError(f"unknown tenant {spec.tenant!r}", param="tenant")
    key, record = new_key(spec.tenant, key_id=spec.key_id, scopes=spec.scopes, models=spec.models)
    await gateway.store.put_key(record)
    return _json({**_public(record), "key": key}, status=201)


@delete("/admin/keys/{key_id:str}", status_code=200)
async def revoke_key(request: Request[Any, Any, Any], gateway: Gateway, key_id: FromPath[str]) -> Response[bytes]:
    """Revoke a stored key (static keys are revoked by editing config)."""
    await _require_admin(request, gateway)
    if not await gateway.store.revoke_key(key_id):
        raise InvalidRequestError(f"no stored key {key_id!r}", param="key_id")
    gateway.auth.forget()
    return _json({"key_id": key_id, "revoked": True})


@get("/admin/usage")
async def usage(request: Request[Any, Any, Any], gateway: Gateway, tenant: FromQuery[str]) -> Response[bytes]:
    """A tenant's spend in window, open reservations, remaining budget and bucket levels."""
    await _require_admin(request, gateway)
    if gateway.auth.tenant(tenant) is None:
        raise InvalidRequestError(f"unknown tenant {tenant!r}", param="tenant")
    # Settles run after responses are sent: let this replica's finish, so usage covers every answer it gave.
    await gateway.detached.drain()
    report = await gateway.limits.usage(tenant)
    return _json(report)


@get("/admin/breakers")
async def breakers(request: Request[Any, Any, Any], gateway: Gateway) -> Response[bytes]:
    """Circuit-breaker state per deployment."""
    await _require_admin(request, gateway)
    return _json({"data": gateway.routes.breakers()})


@post("/admin/reload", status_code=200)
async def reload_guards(request: Request[Any, Any, Any], gateway: Gateway) -> Response[bytes]:
    """Reload the guard policies from the config file now; 409 with the reason if the file is invalid."""
    await _require_admin(request, gateway)
    if gateway.reloader is None:
        raise InvalidRequestError("this gateway has no config file to reload from")
    reason = gateway.reloader.reload()
    if reason is not None:
        return _json({"reloaded": False, "reason": reason}, status=409)
    return _json({"reloaded": True, "generation": gateway.reloader.generation})


admin_routes = [reload_guards, list_tenants, list_keys, create_key, revoke_key, usage, breakers]
