"""Shared fixtures of the output-guard tests: chains (built once per session) and corpus cases."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from guards.output import OutputChain
from schemas.output_guard_config import (
    PII_ENTITIES,
    ExfilConfig,
    LeakConfig,
    OutputPolicy,
    PIIConfig,
    SecretsConfig,
)

ROOT = Path(__file__).resolve().parents[4]
PII_CORPUS = ROOT / "corpus" / "pii" / "presidio_dev.jsonl"
LEAK_CORPUS = ROOT / "corpus" / "leak" / "synthetic.jsonl"


class GoldSpan(msgspec.Struct, frozen=True):
    entity: str
    start: int
    end: int


class PIICase(msgspec.Struct, frozen=True):
    id: str
    text: str
    spans: tuple[GoldSpan, ...]
    source: str


class LeakCase(msgspec.Struct, frozen=True):
    id: str
    system: str
    output: str
    leak: bool
    source: str
    canaries: tuple[str, ...] = ()
    kind: str = ""


@pytest.fixture(scope="session")
def pii_cases() -> list[PIICase]:
    """The dev PII corpus (presidio-research, MIT), shipped in ``corpus/pii``."""
    decoder = msgspec.json.Decoder(PIICase)
    return [decoder.decode(line) for line in PII_CORPUS.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def synthetic_leak_cases() -> list[LeakCase]:
    """The gateway's own leak cases (full system prompts), shipped in ``corpus/leak``."""
    decoder = msgspec.json.Decoder(LeakCase)
    return [decoder.decode(line) for line in LEAK_CORPUS.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def full_chain() -> OutputChain:
    """Every output guard on, PII with every pattern entity."""
    return OutputChain.from_config(
        OutputPolicy(
            pii=PIIConfig(entities=PII_ENTITIES),
            secrets=SecretsConfig(),
            leak=LeakConfig(),
            exfil=ExfilConfig(allow_hosts=("docs.example.com",)),
        )
    )


@pytest.fixture(scope="session")
def pii_chain() -> OutputChain:
    return OutputChain.from_config(OutputPolicy(pii=PIIConfig(entities=PII_ENTITIES)))
