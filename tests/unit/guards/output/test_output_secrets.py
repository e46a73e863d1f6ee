"""Secrets in model output: each kind is redacted; look-alikes are not."""

from __future__ import annotations

import pytest

from guards.output import OutputChain, StreamContext
from schemas.output_guard_config import OutputPolicy, SecretsConfig

CHAIN = OutputChain.from_config(OutputPolicy(secrets=SecretsConfig()))
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MaW1\n"
    "kH1b5c2Jd7Z6c4b8F0xq1ZyX9b3d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4==\n-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "openai_api_key"),
        ("sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "openai_api_key"),
        ("AKIAIOSFODNN7EXAMPLE", "aws_access_key_id"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key"),
        ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "github_token"),
        ("xoxb-123456789012-abcdefABCDEF123", "slack_token"),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "google_api_key"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe_key"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "jwt",
        ),
        (PEM, "private_key"),
        ("postgres://admin:s3cr3tP4ss@db.internal:5432", "connection_string"),
    ],
)
def test_each_kind_is_redacted(secret: str, kind: str) -> None:
    step = CHAIN.apply(f"value: {secret}\nnext line", StreamContext())
    assert [f.entity for f in step.findings] == [kind]
    assert secret not in step.text
    assert step.text.startswith("value: <")
    assert step.text.endswith("\nnext line")


def test_password_assignment_keeps_the_key_name() -> None:
    step = CHAIN.apply('config: password = "Tr0ub4dor&3x"', StreamContext())
    assert step.text == 'config: password = "<PASSWORD>"'


@pytest.mark.parametrize(
    "text",
    [
        "Use password: <your password> here",
        "the password = correcthorsebattery",
        "I asked about sk-learn and the risk-free rate",
        "A JWT looks like eyJ... but this is not one",
        "-----BEGIN RSA PRIVATE KEY----- is the header line",
        "https://example.com/path and user@example.com",
    ],
)
def test_look_alikes_pass(text: str) -> None:
    assert CHAIN.apply(text, StreamContext()).text == text


def test_only_configured_kinds_run() -> None:
    chain = OutputChain.from_config(OutputPolicy(secrets=SecretsConfig(kinds=("jwt",))))
    text = "AKIAIOSFODNN7EXAMPLE"
    assert chain.apply(text, StreamContext()).text == text
