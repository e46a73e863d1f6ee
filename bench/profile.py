"""Sample a running gateway with py-spy under load and summarise where its CPU goes.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;... count``). From them this module
computes, per frame, the share of samples where it is the leaf (self time) and where it is anywhere on the
stack (inclusive time), and a per-package roll-up of self time (``proxy/``, ``guards/``, ``litestar``,
``opentelemetry``...). py-spy is installed into the project venv by ``make bench``; it needs ptrace
permission on the target (root, or ``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Profile", "format_profile", "pyspy_binary", "record"]

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_PACKAGES = ("proxy", "guards", "schemas", "litestar", "opentelemetry", "uvicorn", "aiohttp", "redis", "msgspec")


@dataclass
class Profile:
    """Sample counts: total, per frame (self and inclusive), and self time per package."""

    samples: int = 0
    own: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    packages: Counter[str] = field(default_factory=Counter)


def pyspy_binary() -> str | None:
    """py-spy from the running venv, else from PATH."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match.group('func')} ({path}:{match.group('line') or '?'})"


def _package(frame: str) -> str:
    text = frame.split("(", 1)[-1]
    for name in _PACKAGES:
        if text.startswith((name + "/", name + ".")):
            return name
    return "other" if "/" in text else "native/idle"


def _parse(raw: str) -> Profile:
    prof = Profile()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if f.strip()]
        # py-spy puts "process ..." and "thread ..." pseudo-frames first
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        prof.samples += count
        prof.own[frames[-1]] += count
        prof.packages[_package(frames[-1])] += count
        for frame in set(frames):
            prof.inclusive[frame] += count
    return prof


def record(pid: int, seconds: float, *, rate: int = 250) -> Profile:
    """Sample ``pid`` (and its subprocesses) for ``seconds``; idle threads are left out.

    Raises:
        RuntimeError: py-spy is missing or failed (its error text is in the message).
    """
    binary = pyspy_binary()
    if binary is None:
        raise RuntimeError("py-spy not found (pip install py-spy into the project venv; `make bench` does it)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        argv = [binary, "record", "--format", "raw", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
        argv += ["--rate", str(rate), "--subprocesses", "--nonblocking", "--full-filenames", "--output", str(out)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
        if not out.exists():
            raise RuntimeError(f"py-spy failed (status {done.returncode}): {done.stderr.strip()[-500:]}")
        return _parse(out.read_text(errors="replace"))


def format_profile(prof: Profile, top: int = 15) -> list[str]:
    """Markdown lines: self time per package, then the top frames by self and by inclusive time."""
    if not prof.samples:
        return ["(no samples)"]
    pct = 100 / prof.samples
    lines = [f"{prof.samples} samples.", "", "Self time by package: "]
    lines[-1] += ", ".join(f"{name} {n * pct:.0f}%" for name, n in prof.packages.most_common())
    lines += ["", "| self % | frame |", "|---|---|"]
    lines += [f"| {n * pct:.1f} | `{frame}` |" for frame, n in prof.own.most_common(top)]
    lines += ["", "| inclusive % | frame (project code) |", "|---|---|"]
    ours = [(f, n) for f, n in prof.inclusive.most_common() if f.split("(", 1)[-1].startswith(("proxy/", "guards/"))]
    lines += [f"| {n * pct:.1f} | `{frame}` |" for frame, n in ours[:top]]
    return lines
