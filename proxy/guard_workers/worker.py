"""What runs inside a guard worker process: chains built once, filter states pickled against them.

A filter state is pickled with the chain's immutable objects (detectors, compiled patterns,
the Presidio engine) written as persistent ids: positions in a deterministic walk of the
chain, checked by a fingerprint, so a state is a few KB and any worker holding the same
chain can continue it. Nothing here runs in the gateway process except in tests.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import time
from typing import TYPE_CHECKING

import msgspec

from guards.output import FilterStep, OutputChain, OutputFilter
from schemas.output_guard_config import OutputPolicy, WorkersConfig

if TYPE_CHECKING:
    from guards.output import StreamContext

__all__ = ["BatchResult", "filter_batch", "init_worker", "policy_key", "warm"]

BatchResult = tuple[bytes | None, FilterStep, int]
"""New filter state (``None`` once the filter is done), what the batch released, characters held."""


def policy_key(policy: OutputPolicy) -> bytes:
    """What identifies a chain: the policy without its ``workers`` section, as JSON."""
    return msgspec.json.encode(msgspec.structs.replace(policy, workers=WorkersConfig()))


def _attrs(obj: object) -> list[object]:
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    values = [getattr(obj, n) for n in names if hasattr(obj, n)]
    return values + list(getattr(obj, "__dict__", {}).values())


class _Compiled:
    """A chain plus the table that pickles filter states against it."""

    __slots__ = ("chain", "fingerprint", "ids", "objects")

    def __init__(self, policy_json: bytes) -> None:
        self.chain = OutputChain.from_config(msgspec.json.decode(policy_json, type=OutputPolicy))
        self.objects: list[object] = []
        self.ids: dict[int, int] = {}
        self._walk(self.chain)
        digest = hashlib.blake2b(digest_size=16)
        for obj in self.objects:
            digest.update(type(obj).__qualname__.encode())
            pattern = getattr(obj, "pattern", None)
            if isinstance(pattern, str):
                digest.update(pattern.encode())
        self.fingerprint = digest.digest()

    def _walk(self, obj: object) -> None:
        # Only the chain's own immutable objects are shared; strings and numbers pickle cheaply.
        if obj is None or isinstance(obj, str | bytes | int | float) or id(obj) in self.ids:
            return
        self.ids[id(obj)] = len(self.objects)
        self.objects.append(obj)
        if isinstance(obj, tuple | list):
            for item in obj:
                self._walk(item)
        elif type(obj).__module__.startswith("guards."):
            for value in _attrs(obj):
                self._walk(value)

    def dumps(self, flt: OutputFilter) -> bytes:
        buf = io.BytesIO()
        buf.write(self.fingerprint)
        _Pickler(buf, self.ids).dump(flt)
        return buf.getvalue()

    def loads(self, state: bytes) -> OutputFilter:
        if state[:16] != self.fingerprint:
            raise RuntimeError("guard filter state was written against a different chain")
        flt = _Unpickler(io.BytesIO(state[16:]), self.objects).load()
        assert isinstance(flt, OutputFilter)
        return flt


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, ids: dict[int, int]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._ids = ids

    def persistent_id(self, obj: object) -> int | None:
        return self._ids.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, objects: list[object]) -> None:
        super().__init__(file)
        self._objects = objects

    def persistent_load(self, pid: object) -> object:
        assert isinstance(pid, int)
        return self._objects[pid]


@functools.lru_cache(maxsize=32)
def _compiled(policy_json: bytes) -> _Compiled:
    # The worker process's chains: built once per policy content (this cache is the only
    # state a worker keeps; the gateway process never fills it outside tests).
    return _Compiled(policy_json)


def init_worker(policies: tuple[bytes, ...]) -> None:
    """Pool initializer: build the chain of every process-mode policy once."""
    for policy_json in policies:
        _compiled(policy_json)


def warm() -> None:
    """A no-op task that makes the pool start a worker."""
    # Long enough that one fast worker cannot take every warm-up task from the others.
    time.sleep(0.05)


def filter_batch(
    policy_json: bytes, ctx: StreamContext | None, state: bytes | None, text: str, final: bool
) -> BatchResult:
    """Run in a worker: feed ``text`` (and finish when ``final``) to the filter in ``state``.

    ``state`` ``None`` starts a new filter from ``ctx``.
    """
    compiled = _compiled(policy_json)
    if state is None:
        assert ctx is not None
        flt = compiled.chain.new_filter(ctx)
    else:
        flt = compiled.loads(state)
    step = flt.feed(text)
    if final and step.block is None:
        last = flt.finish()
        step = FilterStep(step.text + last.text, last.block, step.findings + last.findings)
    done = final or step.block is not None
    return (None if done else compiled.dumps(flt)), step, flt.held
