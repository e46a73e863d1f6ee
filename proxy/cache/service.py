"""``ResponseCache``: the per-tenant exact-match response cache the chat path calls.

Use, per request (``proxy.pipeline.chat``)::

    plan = cache.plan(principal.tenant, request, raw, cache_control)   # no I/O; hashes only cacheable requests
    hit = await cache.lookup(plan)          # None: go upstream, and then ALWAYS call finish() once
    ...
    await cache.finish(plan, completion_or_none, cost_micro_usd=...)

Decisions, written down:

* **What is cacheable.** The tenant's ``cache.mode``: ``auto`` caches only deterministic requests (temperature
  0 or a seed), ``always`` everything, ``never`` nothing. ``Cache-Control: no-store`` neither reads nor
  writes; ``no-cache`` skips the read and refreshes the entry. Non-cacheable requests cost one attribute
  check: no hashing, no store call (DESIGN.md section 1).
* **What is stored.** Only a complete, successful, post-guard answer: a ``ChatCompletion`` with usage whose
  every choice finished with ``stop``/``tool_calls``; never ``length`` (the gateway may have lowered
  ``max_tokens`` for budget, or closed a choice the provider never finished). Errors, cut or blocked
  streams reach ``finish`` as ``None`` and are never stored. An entry larger than ``max_entry_bytes`` is
  served but not stored.
* **Coalescing.** Identical concurrent misses in one process wait on the first one's future (single-flight,
  bounded by ``coalesce_wait_ms``, and by the leader's task: a leader that ends without ``finish`` releases its
  waiters; a waiter whose leader failed or timed out goes upstream itself). With
  ``coalesce_across_replicas`` the leader also takes a store lock (``SET NX PX coalesce_wait_ms``); a leader
  that finds the lock held polls the entry (10 ms doubling to 200 ms) and takes over the lock if it is
  released without an entry. That costs a round trip per miss, so it is off by default.
* **Hits cost nothing and skip admission entirely**, so they count against neither spend nor rate limits.
  Rate limits protect provider capacity and the budget; a hit uses neither, and counting it would put a
  Redis round trip back on the path that exists to be cheap. A hit reports the cost the original answer
  had (``CacheHit.saved_micro_usd``) for the caller's metrics.
* **Tenant isolation** is in the key (the tenant id is hashed in, and Redis keys carry ``{t:<tenant>}``),
  and checked again on read: an entry whose recorded tenant or alias differs is ignored.
* **Store outages fail open**: a failed call is logged once, flagged in ``stats.degraded``, counted in
  ``stats.store_errors``, and the cache is skipped for one second (so a dead Redis does not add its
  timeout to every request); requests go upstream as if nothing were cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING

import msgspec

from proxy.cache.key import KEY_VERSION, config_fingerprint, is_deterministic, policy_fingerprints, request_key
from proxy.cache.types import CacheEntry, CacheHit, CachePlan, CacheStats, Found
from proxy.store.base import StoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from proxy.store.base import CacheStore
    from schemas.chat import ChatCompletion, ChatCompletionRequest
    from schemas.config import GatewayConfig, TenantConfig

__all__ = ["CACHE_HEADER", "ResponseCache"]

CACHE_HEADER = "x-gateway-cache"
"""Response header carrying the :data:`~proxy.cache.types.CacheStatus`."""

_DONE_REASONS = frozenset({"stop", "tool_calls", "function_call"})
_OUTAGE_BACKOFF_S = 1.0
_POLL_FIRST_S = 0.01
_POLL_MAX_S = 0.2
_log = logging.getLogger("gateway.cache")
_entry_decoder = msgspec.json.Decoder(CacheEntry)
_encoder = msgspec.json.Encoder()


def _directives(header: str | None) -> frozenset[str]:
    if not header:
        return frozenset()
    return frozenset(part.split("=", 1)[0].strip().lower() for part in header.split(","))


def _storable(completion: ChatCompletion) -> bool:
    if completion.usage is None or not completion.choices:
        return False
    return all(choice.finish_reason in _DONE_REASONS for choice in completion.choices)


class ResponseCache:
    """Per-tenant exact-match cache over a :class:`~proxy.store.base.CacheStore`; one per process."""

    def __init__(
        self,
        store: CacheStore,
        *,
        policies: Mapping[str, str] | None = None,
        models: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the cache.

        Args:
            store: where entries live (the gateway's store).
            policies: guard policy name -> :func:`~proxy.cache.key.config_fingerprint` of that policy.
            models: model alias -> fingerprint of its model config.
            clock: monotonic seconds (for the outage back-off).
        """
        self._store = store
        self._policies = dict(policies or {})
        self._models = dict(models or {})
        self._clock = clock
        # (tenant, digest) -> (the leader's future, when waiting on it stops making sense)
        self._flights: dict[tuple[str, str], tuple[asyncio.Future[Found | None], float]] = {}
        self._down_until = 0.0
        self.stats = CacheStats()

    @classmethod
    def from_config(cls, store: CacheStore, config: GatewayConfig, base_dir: Path | None = None) -> ResponseCache:
        """Fingerprint every guard policy (with its rules file, under ``base_dir``) and model of ``config``."""
        return cls(
            store,
            policies=policy_fingerprints(config, base_dir),
            models={model.name: config_fingerprint(model) for model in config.models},
        )

    def reconfigure(self, config: GatewayConfig, base_dir: Path | None = None) -> None:
        """Re-fingerprint the guard policies after a guard reload: answers given under old rules then miss."""
        self._policies = policy_fingerprints(config, base_dir)

    def plan(
        self,
        tenant: TenantConfig,
        request: ChatCompletionRequest,
        raw: Mapping[str, msgspec.Raw],
        cache_control: str | None = None,
    ) -> CachePlan:
        """Decide whether this request reads and/or writes the cache (pure; hashes only when it does)."""
        config = tenant.cache
        directives = _directives(cache_control)
        cacheable = config.mode == "always" or (config.mode == "auto" and is_deterministic(request))
        if not cacheable or "no-store" in directives:
            self.stats.bypasses += 1
            return CachePlan(status="bypass", tenant=tenant.id, alias=request.model)
        digest = request_key(
            tenant=tenant.id,
            alias=request.model,
            request=request,
            raw=raw,
            policy_fingerprint=self._policies.get(tenant.guard_policy, tenant.guard_policy),
            model_fingerprint=self._models.get(request.model, ""),
        )
        read = "no-cache" not in directives
        if not read:
            self.stats.bypasses += 1
        return CachePlan(
            status="miss" if read else "bypass",
            tenant=tenant.id,
            alias=request.model,
            digest=digest,
            read=read,
            write=True,
            config=config,
        )

    async def lookup(self, plan: CachePlan) -> CacheHit | None:
        """The cached answer, possibly after waiting for an identical request in flight; ``None`` on a miss.

        After ``None`` the caller goes upstream and must call :meth:`finish` exactly once, whatever happens.
        """
        if not plan.read or plan.digest is None or plan.config is None:
            return None
        slot = (plan.tenant, plan.digest)
        flight = self._live_flight(slot)
        if flight is None:
            found = await self._read(plan)
            if found is not None:
                return self._hit(plan, found, coalesced=False)
            flight = self._live_flight(slot)  # another request may have started leading while we read
        if flight is not None:
            return await self._join(plan, *flight)
        if plan.config.coalesce_wait_ms > 0:
            plan.flight = asyncio.get_running_loop().create_future()
            self._flights[slot] = (plan.flight, self._clock() + plan.config.coalesce_wait_ms / 1000)
            task = asyncio.current_task()
            if task is not None:
                # A leader that never calls finish() (it raised before reaching the upstream, or its response
                # was never started) must not hold its waiters: its flight ends when its task does.
                task.add_done_callback(lambda _: self._resolve(plan, None))
            if plan.config.coalesce_across_replicas:
                found = await self._await_other_replica(plan)
                if found is not None:
                    self._resolve(plan, found)
                    return self._hit(plan, found, coalesced=True)
        self.stats.misses += 1
        return None

    async def finish(self, plan: CachePlan, completion: ChatCompletion | None, *, cost_micro_usd: int = 0) -> bool:
        """End a miss: store ``completion`` if it may be stored, and hand it to the waiters. Never raises.

        Args:
            plan: the request's plan (a second call is a no-op).
            completion: the complete post-guard answer the client got; ``None`` when the request failed,
                was blocked, cut, or cancelled.
            cost_micro_usd: what the answer cost (what later hits save).

        Returns:
            whether the entry was written.
        """
        if plan.finished:
            return False
        plan.finished = True
        data: bytes | None = None
        if completion is not None and plan.write and plan.digest is not None and plan.config is not None:
            if _storable(completion):
                entry = CacheEntry(
                    v=KEY_VERSION,
                    tenant=plan.tenant,
                    alias=plan.alias,
                    cost_micro_usd=cost_micro_usd,
                    completion=completion,
                )
                data = _encoder.encode(entry)
                if len(data) > plan.config.max_entry_bytes:
                    data = None
            if data is None:
                self.stats.not_stored += 1
        self._resolve(plan, (completion, cost_micro_usd) if data is not None and completion is not None else None)
        stored = False
        if data is not None and plan.digest is not None and plan.config is not None and not self._down():
            try:
                await self._store.cache_put(plan.tenant, plan.digest, data, plan.config.ttl_s * 1000)
            except StoreUnavailableError as exc:
                self._failed(exc)
            else:
                stored = True
                self.stats.stored += 1
        if plan.lock_token is not None and plan.digest is not None:
            try:
                await self._store.cache_unlock(plan.tenant, plan.digest, plan.lock_token)
            except StoreUnavailableError as exc:
                self._failed(exc)
        return stored

    def _resolve(self, plan: CachePlan, found: Found | None) -> None:
        flight = plan.flight
        if flight is None or plan.digest is None:
            return
        plan.flight = None
        slot = (plan.tenant, plan.digest)
        current = self._flights.get(slot)
        if current is not None and current[0] is flight:
            del self._flights[slot]
        if not flight.done():
            flight.set_result(found)

    def _live_flight(self, slot: tuple[str, str]) -> tuple[asyncio.Future[Found | None], float] | None:
        """The flight to wait on, unless it outlived its wait bound (its leader never finished: a bug or a
        stream response the server never started); then it is dropped so it cannot stall later requests."""
        flight = self._flights.get(slot)
        if flight is not None and flight[1] <= self._clock():
            del self._flights[slot]
            if not flight[0].done():
                flight[0].set_result(None)
            return None
        return flight

    async def _join(self, plan: CachePlan, flight: asyncio.Future[Found | None], deadline: float) -> CacheHit | None:
        try:
            # shield: a waiter that is cancelled (client gone) must not cancel the shared future
            found = await asyncio.wait_for(asyncio.shield(flight), max(deadline - self._clock(), 0.0))
        except TimeoutError:
            found = None
        if found is None:
            self.stats.misses += 1
            return None
        return self._hit(plan, found, coalesced=True)

    def _hit(self, plan: CachePlan, found: Found, *, coalesced: bool) -> CacheHit:
        plan.status = "hit"
        self.stats.hits += 1
        self.stats.coalesced += int(coalesced)
        self.stats.saved_micro_usd += found[1]
        return CacheHit(completion=found[0], saved_micro_usd=found[1], coalesced=coalesced)

    async def _read(self, plan: CachePlan) -> Found | None:
        assert plan.digest is not None
        if self._down():
            return None
        try:
            data = await self._store.cache_get(plan.tenant, plan.digest)
        except StoreUnavailableError as exc:
            self._failed(exc)
            return None
        self._recovered()
        if data is None:
            return None
        try:
            entry = _entry_decoder.decode(data)
        except msgspec.DecodeError:
            _log.warning("ignoring an undecodable cache entry of tenant %s", plan.tenant)
            return None
        if entry.v != KEY_VERSION or entry.tenant != plan.tenant or entry.alias != plan.alias:
            _log.error("ignoring a cache entry recorded for another tenant, alias or version (tenant %s)", plan.tenant)
            return None
        return entry.completion, entry.cost_micro_usd

    async def _await_other_replica(self, plan: CachePlan) -> Found | None:
        """Cross-replica coalescing: take the fill lock, or wait for its holder's entry (bounded)."""
        assert plan.digest is not None
        assert plan.config is not None
        wait_ms = plan.config.coalesce_wait_ms
        token = uuid.uuid4().hex
        deadline = self._clock() + wait_ms / 1000
        pause = _POLL_FIRST_S
        while not self._down():
            try:
                if await self._store.cache_lock(plan.tenant, plan.digest, token, wait_ms):
                    plan.lock_token = token
                    return None
            except StoreUnavailableError as exc:
                self._failed(exc)
                return None
            if self._clock() + pause > deadline:
                return None
            await asyncio.sleep(pause)
            pause = min(pause * 2, _POLL_MAX_S)
            found = await self._read(plan)
            if found is not None:
                return found
        return None

    def _down(self) -> bool:
        return self._clock() < self._down_until

    def _failed(self, exc: StoreUnavailableError) -> None:
        self.stats.store_errors += 1
        if not self.stats.degraded:
            _log.warning("response cache store unavailable, failing open: %s", exc)
        self.stats.degraded = True
        self._down_until = self._clock() + _OUTAGE_BACKOFF_S

    def _recovered(self) -> None:
        if self.stats.degraded:
            self.stats.degraded = False
            _log.info("response cache store reachable again")
