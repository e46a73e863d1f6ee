"""Cache keys: which requests are the same request, for one tenant, under one guard policy.

The key is the SHA-256 of one msgspec-encoded, key-sorted struct holding:

* a format version (bump it to orphan every old entry at once);
* the tenant id and the model alias (the alias's deployment fingerprint too, so re-pointing an alias at
  another model does not serve the old model's answers);
* the fingerprint of the tenant's guard policy (SHA-256 of the policy config): input guards rewrite the
  prompt and output guards rewrite the answer, so a policy change must miss;
* the request body *as the client sent it*, every top-level field except those that cannot change the
  answer (``model``, already the alias; ``stream``; ``stream_options``; ``user``), each decoded and
  re-encoded with sorted object keys, so whitespace and key order do not matter but every parameter,
  including ones this gateway does not model (``logit_bias``, ``reasoning_effort``...), does.

Normalisation is deliberately small and only merges spellings with one meaning: ``null`` equals absent,
``max_completion_tokens`` and ``max_tokens`` are one limit, and sampling numbers are floats (``0`` and ``0.0``
match). Anything else that differs gives a different key: a spurious miss costs one upstream call, a
spurious hit would serve the wrong answer.

The key is computed from the client's request, not from the messages the input guards produced: those can
hold per-request random spotlight delimiters. Keys do not depend on the API key, so two keys of one tenant
share entries; everything a key's scopes change (a system message refused) is decided before the lookup.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from schemas.chat import ChatCompletionRequest
    from schemas.config import GatewayConfig

__all__ = ["KEY_VERSION", "config_fingerprint", "is_deterministic", "policy_fingerprints", "request_key"]

KEY_VERSION = 1

_IGNORED = frozenset({"model", "stream", "stream_options", "user"})
_LIMITS = ("max_tokens", "max_completion_tokens")
_FLOATS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
_decoder = msgspec.json.Decoder()


class _KeyMaterial(msgspec.Struct, frozen=True, kw_only=True):
    v: int
    tenant: str
    alias: str
    model: str
    policy: str
    body: dict[str, object]


def config_fingerprint(config: object) -> str:
    """Hex SHA-256 of a config Struct (a guard policy, a model), encoded with sorted keys."""
    return hashlib.sha256(msgspec.json.encode(config, order="sorted")).hexdigest()


def policy_fingerprints(config: GatewayConfig, base_dir: Path | None = None) -> dict[str, str]:
    """Guard policy name -> fingerprint of the policy config and of the injection rules file it names.

    The rules file is read (relative to ``base_dir``, the config file's directory) because editing it changes
    what the input guards do without changing the config. An unreadable file fingerprints as its path only:
    the gateway refuses to start or reload with it anyway.
    """
    out: dict[str, str] = {}
    for name, policy in config.guard_policies.items():
        digest = hashlib.sha256(msgspec.json.encode(policy, order="sorted"))
        rules = policy.input.injection.rules_file
        if rules is not None and base_dir is not None:
            try:
                digest.update((base_dir / rules).read_bytes())
            except OSError:
                digest.update(b"unreadable")
        out[name] = digest.hexdigest()
    return out


def is_deterministic(request: ChatCompletionRequest) -> bool:
    """Whether the same request should get the same answer: greedy sampling or a fixed seed."""
    return request.temperature == 0 or request.seed is not None


def request_key(
    *,
    tenant: str,
    alias: str,
    request: ChatCompletionRequest,
    raw: Mapping[str, msgspec.Raw],
    policy_fingerprint: str,
    model_fingerprint: str = "",
) -> str:
    """The hex SHA-256 cache key of one request (see the module docstring for what it covers).

    Args:
        tenant: the tenant id.
        alias: the model alias the client asked for.
        request: the decoded request (for the normalised numeric fields).
        raw: its raw top-level fields, as decoded by ``proxy.pipeline.decode``.
        policy_fingerprint: :func:`config_fingerprint` of the tenant's guard policy.
        model_fingerprint: :func:`config_fingerprint` of the alias's model config.

    Returns:
        64 lowercase hex digits.
    """
    body: dict[str, object] = {}
    for name, value in raw.items():
        if name in _IGNORED:
            continue
        decoded = _decoder.decode(value)
        if decoded is not None:
            body[name] = decoded
    for name in _LIMITS:
        body.pop(name, None)
    limit = request.output_limit
    if limit is not None:
        body["max_tokens"] = limit
    for name in _FLOATS:
        number = getattr(request, name)
        if number is not None:
            body[name] = float(number)
    material = _KeyMaterial(
        v=KEY_VERSION, tenant=tenant, alias=alias, model=model_fingerprint, policy=policy_fingerprint, body=body
    )
    return hashlib.sha256(msgspec.json.encode(material, order="sorted")).hexdigest()
