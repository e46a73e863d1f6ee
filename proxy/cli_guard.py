"""``gateway guard eval --corpus FILE... [--config FILE] [--tenant T] [--json]`` (DESIGN.md §6).

Runs a tenant's input guard policy over corpus JSONL files and prints the §6 report: one JSON
object with ``--json``, a text table otherwise. Without ``--config`` the shipped default
policy is used (injection screen on, block at 0.8). With ``--config`` the file is decoded by
``proxy.settings.decode_config`` (no secrets are resolved: eval never calls a provider); the
tenant's ``guard_policy`` is used (``--tenant`` omitted: the ``default`` policy), and its
``rules_file`` is read relative to the config file. Exit codes: 0 ok, 2 bad arguments or
config or corpus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from guards.eval import evaluate, format_table
from guards.injection.rules import RulesError, load_rules
from guards.input.build import build_input_guard
from guards.input.screen_memo import ScreenMemo
from proxy.settings import ConfigError, decode_config
from schemas.corpus import CorpusCase
from schemas.input_guard_config import InputPolicy

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemas.injection_rules import InjectionRuleSet

__all__ = ["guard_eval_main"]


class _UsageError(Exception):
    pass


def _policy(config_path: str | None, tenant: str | None) -> tuple[InputPolicy, Path | None]:
    if config_path is None:
        if tenant is not None:
            raise _UsageError("--tenant needs --config")
        return InputPolicy(), None
    path = Path(config_path)
    try:
        config = decode_config(path.read_bytes())
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror}") from exc
    except ConfigError as exc:
        raise _UsageError(str(exc)) from exc
    name = "default"
    if tenant is not None:
        match = [t for t in config.tenants if t.id == tenant]
        if not match:
            raise _UsageError(f"unknown tenant {tenant!r}")
        name = match[0].guard_policy
    if name not in config.guard_policies:
        raise _UsageError(f"unknown guard policy {name!r}")
    return config.guard_policies[name].input, path.parent


def _rules(policy: InputPolicy, base: Path | None) -> InjectionRuleSet | None:
    if policy.injection.rules_file is None:
        return None
    path = Path(policy.injection.rules_file)
    if not path.is_absolute() and base is not None:
        path = base / path
    try:
        return load_rules(path.read_bytes(), source=str(path))
    except OSError as exc:
        raise _UsageError(f"cannot read rules file {path}: {exc.strerror}") from exc
    except RulesError as exc:
        raise _UsageError(str(exc)) from exc


def _cases(paths: list[str]) -> Iterator[CorpusCase]:
    decoder = msgspec.json.Decoder(CorpusCase)
    for name in paths:
        try:
            lines = Path(name).read_bytes().splitlines()
        except OSError as exc:
            raise _UsageError(f"cannot read corpus {name}: {exc.strerror}") from exc
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    yield decoder.decode(line)
                except msgspec.DecodeError as exc:
                    raise _UsageError(f"{name}:{number}: {exc}") from exc


def guard_eval_main(argv: list[str]) -> int:
    """Run ``gateway guard eval``; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="gateway guard eval", description="Measure the input guards on a corpus.")
    parser.add_argument("--corpus", nargs="+", required=True, metavar="FILE", help="JSONL corpus files")
    parser.add_argument("--config", metavar="FILE", help="gateway config (default: the shipped default policy)")
    parser.add_argument("--tenant", metavar="T", help="evaluate this tenant's guard policy")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        policy, base = _policy(args.config, args.tenant)
        # no memo: a corpus repeats some texts, and every case must be screened (and timed) in full
        guard = build_input_guard(policy, rules=_rules(policy, base), memo=ScreenMemo(max_entries=0))
        cases = list(_cases(args.corpus))
    except (_UsageError, RulesError) as exc:
        print(f"gateway guard eval: {exc}", file=sys.stderr)
        return 2
    report = evaluate(cases, guard)
    if args.json:
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        print(format_table(report))
    return 0
