"""The serving process moves its startup heap out of the collector's reach (no ~90 ms full collections)."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import gc, time
from guards.input.build import build_input_guard
from schemas.input_guard_config import InputPolicy
build_input_guard(InputPolicy())  # the rules and the classifier, as a policy builds them
from proxy.server import freeze_startup_heap
assert gc.get_freeze_count() == 0
freeze_startup_heap()
frozen = gc.get_freeze_count()
started = time.perf_counter()
gc.collect()
print(frozen, len(gc.get_objects()), time.perf_counter() - started)
"""


def test_startup_objects_are_frozen_and_a_full_collection_skips_them() -> None:
    # A fresh interpreter: freezing is process-wide, and this test process must keep its collector.
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    frozen, tracked, _ = done.stdout.split()
    assert int(frozen) > 10_000  # the modules, rules and classifier are in the permanent generation
    assert int(tracked) < int(frozen) // 10  # what a full collection still walks
