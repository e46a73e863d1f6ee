"""Config of the response-side guards: ``guard_policies.<name>.output`` (DESIGN.md §5 and §9).

```yaml
output:
  pii:
    entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD]
    action: redact           # redact (<EMAIL_ADDRESS>) | mask (*****) | block | observe
    ner:                     # optional: a spaCy NER model through Presidio (never downloaded)
      model: en_core_web_lg  # an installed spaCy package, or a path to a saved pipeline
      entities: [PERSON, LOCATION]
  secrets: {action: redact}  # API keys, JWTs, private keys, connection strings
  leak:
    action: block            # block | observe
    ngram: 3                 # word n-gram size for the system-prompt overlap
    threshold: 0.2           # fraction of the system prompt's n-grams echoed before it fires
  exfil:
    action: redact           # redact (link/image replaced) | block | observe
    allow_hosts: [docs.acme.com]
  workers:                   # where the chain runs (proxy.guard_workers)
    mode: inline             # inline (on the event loop) | process (a worker process pool)
    processes: 2             # pool size (one pool per app: the largest value among policies)
    batch_chars: 400         # a batch ends at a sentence end, or after this many characters
    timeout_ms: 2000         # per batch, queueing included
    on_error: fail_closed    # fail_closed (end the stream: guard_unavailable) | fail_open
```

Every section is optional: a missing section turns that guard off, and ``output: {}`` runs no
output guard at all (the relay then takes its pass-through fast path). Inside a section every
field has a default, so ``pii: {}`` is a working PII redactor.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec

from schemas.base import ConfigStruct

__all__ = [
    "DEFAULT_PII_ENTITIES",
    "PII_ENTITIES",
    "SECRET_KINDS",
    "ExfilConfig",
    "LeakAction",
    "LeakConfig",
    "NerConfig",
    "NerEntity",
    "OutputAction",
    "OutputPolicy",
    "PIIConfig",
    "PIIEntity",
    "SecretKind",
    "SecretsConfig",
    "WorkersConfig",
    "WorkersMode",
    "WorkersOnError",
]

OutputAction = Literal["redact", "mask", "block", "observe"]
"""``redact``: typed placeholder; ``mask``: same-length ``*``; ``block``: end the stream with an error;
``observe``: only report a finding (shadow mode)."""
LeakAction = Literal["block", "observe"]
WorkersMode = Literal["inline", "process"]
WorkersOnError = Literal["fail_closed", "fail_open"]

PIIEntity = Literal["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "URL"]
PII_ENTITIES: tuple[PIIEntity, ...] = get_args(PIIEntity)
DEFAULT_PII_ENTITIES: tuple[PIIEntity, ...] = PII_ENTITIES[:-1]

NerEntity = Literal["PERSON", "LOCATION", "NRP", "ORGANIZATION", "DATE_TIME"]
"""Presidio's names for what a spaCy NER model finds (PERSON/PER, GPE/LOC, NORP, ORG, DATE/TIME)."""

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
SECRET_KINDS: tuple[SecretKind, ...] = get_args(SecretKind)

Fraction = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
HostName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9.-]{1,253}$")]


class NerConfig(ConfigStruct, kw_only=True):
    """An optional spaCy NER model for the PII entities patterns cannot find (names, places).

    The model is loaded from an installed spaCy package or a saved pipeline directory, never
    downloaded: a model that is not there is a configuration error. NER reads whole sentences, so
    this guard holds text back to the end of the current sentence (at most ``max_sentence_chars``).
    """

    model: Annotated[str, msgspec.Meta(min_length=1)]
    entities: tuple[NerEntity, ...] = ("PERSON", "LOCATION", "NRP")
    min_score: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.5
    max_sentence_chars: Annotated[int, msgspec.Meta(ge=16, le=4096)] = 400
    """A sentence longer than this is analysed in pieces cut at whitespace."""


class PIIConfig(ConfigStruct, kw_only=True):
    """PII in model output, found with validated patterns confirmed by Presidio recognizers."""

    entities: tuple[PIIEntity, ...] = DEFAULT_PII_ENTITIES
    """Presidio entity names to look for. ``URL`` is off by default: links are rarely personal."""
    action: OutputAction = "redact"
    min_score: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.5
    """Presidio score at or above which a candidate counts."""
    ner: NerConfig | None = None
    """Off by default: pattern entities need no model. See ``NerConfig``."""


class SecretsConfig(ConfigStruct, kw_only=True):
    """Credentials in model output (keys the model saw in context, or hallucinated real ones)."""

    kinds: tuple[SecretKind, ...] = SECRET_KINDS
    action: OutputAction = "redact"


class LeakConfig(ConfigStruct, kw_only=True):
    """System-prompt leak: canaries and secrets (in any disguise), and n-gram overlap with the system prompt."""

    action: LeakAction = "block"
    canary: bool = True
    """Look for the canary tokens the gateway planted (case, spacing and punctuation variations too)."""
    ngram: Annotated[int, msgspec.Meta(ge=1, le=8)] = 3
    """Word n-gram size of the overlap detector; a system prompt shorter than this (or of at most 4
    words) is a secret itself."""
    threshold: Fraction = 0.2
    """Fraction of the system prompt's distinct informative n-grams that must be echoed."""
    min_ngrams: Annotated[int, msgspec.Meta(ge=1)] = 3
    """Never fire on fewer echoed n-grams than this, whatever the threshold says."""
    max_gap: Annotated[int, msgspec.Meta(ge=0, le=16)] = 4
    """Words allowed between two echoed n-grams (or phrase words) that still count as one run."""
    max_span: Annotated[int, msgspec.Meta(ge=16, le=65536)] = 1024
    """Longest echoed run (characters) withheld from the client while it is still growing."""
    secret_values: bool = True
    """Also treat values the system prompt introduces as a password, code, PIN, key or token as
    secrets (matched spelled out, encoded, reversed... like canaries)."""
    window: Annotated[int, msgspec.Meta(ge=1, le=64)] = 24
    """Words within which every word of a multi-word secret, in any order, counts as a leak."""


class ExfilConfig(ConfigStruct, kw_only=True):
    """Markdown images/links and HTML images that carry data to hosts outside the allowlist."""

    action: OutputAction = "redact"
    allow_hosts: tuple[HostName, ...] = ()
    """Hosts (and their subdomains) that may receive links; the request may add more."""
    all_images: bool = True
    """Remove every image to a non-allowlisted host, not only those whose URL carries data
    (an image is fetched without a click, so any URL is a beacon)."""


class WorkersConfig(ConfigStruct, kw_only=True):
    """Where the output chain runs: inline on the event loop, or in a worker process pool.

    ``process`` moves the scanning off the event loop (CPU-heavy policies, long responses) at
    the price of batching: text reaches the client a sentence (or ``batch_chars``) at a time.
    """

    mode: WorkersMode = "inline"
    processes: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2
    """Worker processes; the app runs one pool, sized by the largest value among the policies."""
    batch_chars: Annotated[int, msgspec.Meta(ge=16, le=65536)] = 400
    """Longest batch sent to a worker; a batch normally ends at the last sentence end before it."""
    timeout_ms: Annotated[int, msgspec.Meta(ge=10, le=600_000)] = 2000
    """How long one batch may take, waiting for a free worker included."""
    on_error: WorkersOnError = "fail_closed"
    """On a timeout or a worker crash: ``fail_closed`` ends the stream with a ``guard_unavailable``
    error; ``fail_open`` releases that batch unfiltered and reports a ``guard_workers`` finding."""


class OutputPolicy(ConfigStruct, kw_only=True):
    """The response-side guard policy of one ``guard_policies`` entry; ``None`` turns a guard off."""

    pii: PIIConfig | None = None
    secrets: SecretsConfig | None = None
    leak: LeakConfig | None = None
    exfil: ExfilConfig | None = None
    workers: WorkersConfig = WorkersConfig()
    """Inline by default: the chain runs on the event loop, as cheap guards should."""
