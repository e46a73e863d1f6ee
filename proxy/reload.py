"""Reloading guard rules without a restart: SIGHUP, a file watch, or ``POST /admin/reload``.

What reloads: every guard policy (input rules and thresholds, templates, output guards),
read again from the config file and the rules files it names. Everything else (tenants,
models, providers, the store) is fixed for the life of the process: changing those needs a
restart, which a rolling deploy of stateless replicas makes cheap.

A reload builds the new stages completely first and swaps them in one assignment, so a
request sees either the old rules or the new ones, never a mix. An invalid file is refused
and the old rules stay; the reason is logged and returned (for the admin endpoint).
The watch polls modification times once a second: no dependency, no inotify limits, and a
change is live within about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from proxy.guard_stages import build_stages
from proxy.input_guards import InputGuardsError
from proxy.settings import ConfigError, decode_config

if TYPE_CHECKING:
    from pathlib import Path

    from proxy.state import GatewayState

__all__ = ["Reloader"]

_log = logging.getLogger("gateway.reload")


class Reloader:
    """Owns the reload triggers of one app."""

    def __init__(self, state: GatewayState, path: Path | None, *, interval_s: float = 1.0) -> None:
        self._state = state
        self._path = path
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None
        self._signal = False
        self._stamps = self._mtimes()
        self.generation = 0
        """How many reloads succeeded (tests and /admin/reload read it)."""

    def _watched(self) -> list[Path]:
        if self._path is None:
            return []
        paths = [self._path]
        for policy in self._state.settings.config.guard_policies.values():
            rules = policy.input.injection.rules_file
            if rules is not None:
                paths.append(self._path.parent / rules)
        return paths

    def _mtimes(self) -> dict[Path, int]:
        stamps: dict[Path, int] = {}
        for path in self._watched():
            with contextlib.suppress(OSError):
                stamps[path] = path.stat().st_mtime_ns
        return stamps

    def reload(self) -> str | None:
        """Rebuild the guard stages from the files; ``None`` on success, else why the old ones stay."""
        if self._path is None:
            return "no config file to reload from"
        try:
            config = decode_config(self._path.read_bytes())
            inputs, outputs, _ = build_stages(config, self._path.parent, workers=self._state.guard_workers)
        except (OSError, ConfigError, InputGuardsError) as exc:
            reason = str(exc) if not isinstance(exc, OSError) else f"cannot read {self._path}: {exc.strerror}"
            _log.error("guard reload refused, keeping the current rules: %s", reason)
            return reason
        missing = {t.guard_policy for t in self._state.settings.config.tenants} - set(config.guard_policies)
        if missing:
            reason = f"guard policies still used by tenants were removed: {sorted(missing)}"
            _log.error("guard reload refused, keeping the current rules: %s", reason)
            return reason
        self._state.input_stages = inputs
        self._state.output_stages = outputs
        # Answers cached under the old rules must not outlive them.
        self._state.cache.reconfigure(config, self._path.parent)
        self.generation += 1
        _log.warning("guard rules reloaded (generation %d)", self.generation)
        return None

    async def start(self) -> None:
        """Install the SIGHUP handler (main thread only) and start the file watch."""
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self._on_signal)
            self._signal = True
        except (ValueError, RuntimeError, NotImplementedError):
            self._signal = False  # not the main thread (tests run the app in a thread): the watch still works
        self._task = loop.create_task(self._watch())

    async def stop(self) -> None:
        """Remove the handler and stop watching."""
        if self._signal:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_signal(self) -> None:
        self.reload()
        self._stamps = self._mtimes()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            stamps = self._mtimes()
            if stamps != self._stamps:
                self._stamps = stamps
                self.reload()
