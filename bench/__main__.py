"""``python -m bench <name> [args]``: run one benchmark; ``all`` is the bounded suite (``make bench``)."""

from __future__ import annotations

import importlib
import sys

__all__ = ["main"]

BENCHMARKS = {
    "overhead": "bench.overhead",
    "guards": "bench.guards",
    "guards-e2e": "bench.guards_e2e",
    "instructions": "bench.instructions",
    "limits": "bench.limits",
    "cache": "bench.cache",
    "injection": "bench.injection",
    "sidebyside": "bench.sidebyside",
    "nginx": "bench.nginx",
    "litellm": "bench.litellm_bench",
    "memory": "bench.memory",
    "scaleout": "bench.scaleout",
    "ablation": "bench.ablation",
    "paired": "bench.paired",
    "suite": "bench.suite",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to ``bench.<name>.main``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m bench {" + ",".join([*BENCHMARKS, "all"]) + "} [--json] [...]")
        return 0
    # The suite already runs every part within the 10-minute budget; running each entry again would not fit.
    names = ["suite"] if args[0] == "all" else [args[0]]
    status = 0
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}", file=sys.stderr)
            return 2
        print(f"## {name}", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        status |= int(module.main(args[1:]))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
