"""``OutputPolicy`` decoding: defaults, strictness, constraints."""

from __future__ import annotations

import msgspec
import pytest

from schemas.output_guard_config import DEFAULT_PII_ENTITIES, SECRET_KINDS, OutputPolicy


def test_empty_policy_turns_every_output_guard_off() -> None:
    policy = msgspec.yaml.decode(b"{}", type=OutputPolicy)
    assert (policy.pii, policy.secrets, policy.leak, policy.exfil) == (None, None, None, None)


def test_sections_get_defaults() -> None:
    policy = msgspec.yaml.decode(b"pii: {}\nsecrets: {}\nleak: {}\nexfil: {}\n", type=OutputPolicy)
    assert policy.pii is not None
    assert policy.pii.entities == DEFAULT_PII_ENTITIES
    assert policy.pii.action == "redact"
    assert policy.secrets is not None
    assert policy.secrets.kinds == SECRET_KINDS
    assert policy.leak is not None
    assert (policy.leak.action, policy.leak.ngram) == ("block", 3)
    assert policy.exfil is not None
    assert policy.exfil.allow_hosts == ()


def test_design_sketch_decodes() -> None:
    raw = b"pii: {entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD], action: redact}\nleak: {action: block}\n"
    policy = msgspec.yaml.decode(raw, type=OutputPolicy)
    assert policy.pii is not None
    assert policy.pii.entities == ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD")


@pytest.mark.parametrize(
    "raw",
    [
        b"pii: {entities: [PERSON]}",
        b"pii: {action: delete}",
        b"leak: {action: redact}",
        b"leak: {ngram: 0}",
        b"leak: {threshold: 1.5}",
        b"exfil: {allow_hosts: ['bad host']}",
        b"secrets: {kinds: [telepathy]}",
        b"pii: {entites: [EMAIL_ADDRESS]}",
        b"unknown: {}",
    ],
)
def test_invalid_config_is_rejected(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.yaml.decode(raw, type=OutputPolicy)
