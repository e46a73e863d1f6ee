"""The API-key store contract over memory, Redis and Redis Cluster."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from schemas.keys import KeyRecord

if TYPE_CHECKING:
    from tests.support.stores import StoreUnderTest


def digest(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def record(key_id: str, tenant: str, secret: str) -> KeyRecord:
    return KeyRecord(key_id=key_id, tenant=tenant, digest=digest(secret), scopes=("chat",), created_at=1)


async def test_put_get_by_digest_and_list(store: StoreUnderTest) -> None:
    s = store.store
    await s.put_key(record("acme-web", "acme", "sk-1"))
    await s.put_key(record("acme-batch", "acme", "sk-2"))
    await s.put_key(record("beta-app", "beta", "sk-3"))
    assert await s.get_key(digest("sk-2")) == record("acme-batch", "acme", "sk-2")
    assert await s.get_key(digest("unknown")) is None
    assert [r.key_id for r in await s.list_keys("acme")] == ["acme-batch", "acme-web"]
    assert [r.key_id for r in await s.list_keys()] == ["acme-batch", "acme-web", "beta-app"]
    assert await s.list_keys("nobody") == []


async def test_revoke_keeps_the_record_but_marks_it(store: StoreUnderTest) -> None:
    s = store.store
    await s.put_key(record("acme-web", "acme", "sk-1"))
    assert await s.revoke_key("acme-web")
    assert not await s.revoke_key("missing")
    found = await s.get_key(digest("sk-1"))
    assert found is not None
    assert found.revoked


async def test_replacing_a_key_drops_its_old_digest(store: StoreUnderTest) -> None:
    s = store.store
    await s.put_key(record("acme-web", "acme", "sk-old"))
    await s.put_key(record("acme-web", "acme", "sk-new"))
    assert await s.get_key(digest("sk-old")) is None
    assert (await s.get_key(digest("sk-new"))) == record("acme-web", "acme", "sk-new")
    assert len(await s.list_keys("acme")) == 1


async def test_ping(store: StoreUnderTest) -> None:
    assert await store.store.ping()
