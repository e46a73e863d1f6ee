"""The ``gateway`` command: serve, keys, check-config, guard eval.

```
gateway serve --config FILE [--host H] [--port P] [--workers N] [--demo-key]
gateway keys create --config FILE --tenant T [--scopes chat system admin] [--models PATTERN...] [--id ID]
gateway keys revoke --config FILE KEY_ID
gateway keys list   --config FILE [--tenant T]
gateway check-config FILE
gateway guard eval --corpus FILE... [--config FILE] [--tenant T] [--json]
```

Exit codes: 0 success, 1 the operation failed, 2 bad usage or an invalid config.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from proxy.auth import new_key
from proxy.settings import ConfigError, load_settings, prepare_environment
from proxy.store.base import StoreUnavailableError
from proxy.store.factory import create_store

if TYPE_CHECKING:
    from collections.abc import Sequence

    from proxy.settings import Settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description="The GenAI API gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", required=True)
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo-key", action="store_true", help="mint a key for the first tenant and print it")
    keys = sub.add_parser("keys", help="manage API keys in the shared store").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser("create")
    create.add_argument("--config", required=True)
    create.add_argument("--tenant", required=True)
    create.add_argument("--scopes", nargs="+", default=["chat"], choices=["chat", "system", "admin"])
    create.add_argument("--models", nargs="+", default=["*"])
    create.add_argument("--id", dest="key_id")
    revoke = keys.add_parser("revoke")
    revoke.add_argument("--config", required=True)
    revoke.add_argument("key_id")
    listing = keys.add_parser("list")
    listing.add_argument("--config", required=True)
    listing.add_argument("--tenant")
    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("path")
    guard = sub.add_parser("guard", help="guard tools").add_subparsers(dest="action", required=True)
    guard.add_parser("eval", help="measure the input guards on a corpus", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gateway`` command."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    prepare_environment()
    if args_list[:2] == ["guard", "eval"]:
        from proxy.cli_guard import guard_eval_main

        return guard_eval_main(args_list[2:])
    args = _parser().parse_args(args_list)
    try:
        if args.command == "check-config":
            return _check_config(args.path)
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        try:
            return _serve(settings, args)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(_keys(settings, args))
    except StoreUnavailableError:
        print("error: the key store is unreachable", file=sys.stderr)
        return 1


def _check_config(path: str) -> int:
    settings = load_settings(path, environ={})
    config = settings.config
    from proxy.app import build_state

    build_state(settings)
    print(
        f"ok: {len(config.providers)} providers, {len(config.models)} models, {len(config.tenants)} tenants, "
        f"{len(config.guard_policies)} guard policies"
    )
    for name in settings.missing_env:
        print(f"note: environment variable {name} is named by the config (not checked here)")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from proxy.server import serve

    return serve(settings, host=args.host, port=args.port, workers=args.workers, demo_key=args.demo_key)


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    if settings.config.store.kind == "memory":
        print("error: the store is 'memory' (per process): use the admin API or static keys", file=sys.stderr)
        return 1
    store = create_store(settings.config.store)
    try:
        if args.action == "create":
            if args.tenant not in {t.id for t in settings.config.tenants}:
                print(f"error: unknown tenant {args.tenant!r}", file=sys.stderr)
                return 1
            key, record = new_key(args.tenant, key_id=args.key_id, scopes=args.scopes, models=args.models)
            await store.put_key(record)
            print(f"key_id: {record.key_id}\nkey: {key}\n(shown once: store it now)")
            return 0
        if args.action == "revoke":
            if await store.revoke_key(args.key_id):
                print(f"revoked {args.key_id}")
                return 0
            print(f"error: no stored key {args.key_id!r}", file=sys.stderr)
            return 1
        for record in await store.list_keys(args.tenant):
            state = "revoked" if record.revoked else "active"
            print(f"{record.key_id}\t{record.tenant}\t{','.join(record.scopes)}\t{state}")
        return 0
    finally:
        await store.aclose()
