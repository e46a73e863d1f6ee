"""Config of the response-side guards: ``guard_policies.<name>.output`` (DESIGN.md §5 and §9).

```yaml
output:
  pii:
    entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD]
    action: redact           # redact (<EMAIL_ADDRESS>) | mask (*****) | block | observe
  secrets: {action: redact}  # API keys, JWTs, private keys, connection strings
  leak:
    action: block            # block | observe
    ngram: 3                 # word n-gram size for the system-prompt overlap
    threshold: 0.2           # fraction of the system prompt's n-grams echoed before it fires
  exfil:
    action: redact           # redact (link/image replaced) | block | observe
    allow_hosts: [docs.acme.com]
```

Every section is optional: a missing section turns that guard off, and ``output: {}`` runs no
output guard at all (the relay then takes its pass-through fast path). Inside a section every
field has a default, so ``pii: {}`` is a working PII redactor.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct

__all__ = [
    "DEFAULT_PII_ENTITIES",
    "PII_ENTITIES",
    "SECRET_KINDS",
    "ExfilConfig",
    "LeakAction",
    "LeakConfig",
    "OutputAction",
    "OutputPolicy",
    "PIIConfig",
    "PIIEntity",
    "SecretKind",
    "SecretsConfig",
]

OutputAction = Literal["redact", "mask", "block", "observe"]
"""``redact``: typed placeholder; ``mask``: same-length ``*``; ``block``: end the stream with an error;
``observe``: only report a finding (shadow mode)."""
LeakAction = Literal["block", "observe"]

PIIEntity = Literal["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "URL"]
PII_ENTITIES: tuple[PIIEntity, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
)
DEFAULT_PII_ENTITIES: tuple[PIIEntity, ...] = PII_ENTITIES[:-1]

SecretKind = Literal[
    "openai_api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "github_token",
    "slack_token",
    "google_api_key",
    "stripe_key",
    "jwt",
    "private_key",
    "connection_string",
    "password_assignment",
]
SECRET_KINDS: tuple[SecretKind, ...] = (
    "openai_api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "github_token",
    "slack_token",
    "google_api_key",
    "stripe_key",
    "jwt",
    "private_key",
    "connection_string",
    "password_assignment",
)

Fraction = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
HostName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9.-]{1,253}$")]


class PIIConfig(ConfigStruct, kw_only=True):
    """PII in model output, found with validated patterns confirmed by Presidio recognizers."""

    entities: tuple[PIIEntity, ...] = DEFAULT_PII_ENTITIES
    """Presidio entity names to look for. ``URL`` is off by default: links are rarely personal."""
    action: OutputAction = "redact"
    min_score: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.5
    """Presidio score at or above which a candidate counts."""


class SecretsConfig(ConfigStruct, kw_only=True):
    """Credentials in model output (keys the model saw in context, or hallucinated real ones)."""

    kinds: tuple[SecretKind, ...] = SECRET_KINDS
    action: OutputAction = "redact"


class LeakConfig(ConfigStruct, kw_only=True):
    """System-prompt leak: canary tokens and word n-gram overlap with the request's system prompt."""

    action: LeakAction = "block"
    canary: bool = True
    """Look for the canary tokens the gateway planted (case, spacing and punctuation variations too)."""
    ngram: Annotated[int, msgspec.Meta(ge=1, le=8)] = 3
    """Word n-gram size of the overlap detector; a system prompt shorter than this is matched as a phrase."""
    threshold: Fraction = 0.2
    """Fraction of the system prompt's distinct informative n-grams that must be echoed."""
    min_ngrams: Annotated[int, msgspec.Meta(ge=1)] = 3
    """Never fire on fewer echoed n-grams than this, whatever the threshold says."""
    max_gap: Annotated[int, msgspec.Meta(ge=0, le=16)] = 4
    """Words allowed between two echoed n-grams (or phrase words) that still count as one run."""
    max_span: Annotated[int, msgspec.Meta(ge=16, le=65536)] = 1024
    """Longest echoed run (characters) withheld from the client while it is still growing."""


class ExfilConfig(ConfigStruct, kw_only=True):
    """Markdown images/links and HTML images that carry data to hosts outside the allowlist."""

    action: OutputAction = "redact"
    allow_hosts: tuple[HostName, ...] = ()
    """Hosts (and their subdomains) that may receive links; the request may add more."""
    all_images: bool = True
    """Remove every image to a non-allowlisted host, not only those whose URL carries data
    (an image is fetched without a click, so any URL is a beacon)."""


class OutputPolicy(ConfigStruct, kw_only=True):
    """The response-side guard policy of one ``guard_policies`` entry; ``None`` turns a guard off."""

    pii: PIIConfig | None = None
    secrets: SecretsConfig | None = None
    leak: LeakConfig | None = None
    exfil: ExfilConfig | None = None
