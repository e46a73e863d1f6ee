"""Credentials in model output: API keys, JWTs, PEM private keys, connection strings.

One bounded pattern per kind, each anchored on the kind's fixed prefix or structure and ending
in a maximal-munch lookahead (see ``guards.output.rx``). Worst cases:

* token kinds (``sk-``, ``AKIA``, ``ghp_``, ``xox?-``, ``AIza``, ``sk_live_``): a literal prefix
  then one bounded character class; linear, one start per prefix occurrence.
* ``jwt``: three bounded base64url segments after ``eyJ``; a long base64 run without dots
  costs one pass of the first class (<= 4,096) per ``eyJ``.
* ``private_key``: ``-----BEGIN ... PRIVATE KEY-----``, up to two header lines, a body of at
  most 16,384 base64/whitespace characters and an optional END line. Held back until the END line
  (or the first non-base64 character): the whole block is one span.
* ``connection_string``: ``scheme://user:password@host``; each part is one bounded class
  without the next part's delimiter, so no backtracking across parts.
* ``password_assignment``: ``password = value`` style; the value must mix letters and digits
  or symbols (so ``password: <your password>`` placeholders in docs pass).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.output.base import Hit
from guards.output.rx import IGNORECASE, Match, Pattern, PatternScanner, compile_pattern

if TYPE_CHECKING:
    from guards.output.base import HitAction, StreamContext
    from schemas.output_guard_config import SecretsConfig

__all__ = ["SECRET_PATTERNS", "SecretsDetector"]

_T = r"(?![A-Za-z0-9_-])"
SECRET_PATTERNS: dict[str, tuple[str, str, int, int]] = {
    # kind: (pattern, starter, flags, tail); the starter is the pattern's lookbehind + first character.
    "openai_api_key": (
        r"(?<![A-Za-z0-9_-])sk-(?:[A-Za-z0-9]{1,12}-)?[A-Za-z0-9_-]{20,256}" + _T,
        r"(?<![A-Za-z0-9_-])s",
        0,
        2,
    ),
    "aws_access_key_id": (
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        r"(?<![A-Za-z0-9])A",
        0,
        2,
    ),
    "aws_secret_access_key": (
        r"aws_?secret_?(?:access_?)?key[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        r"[aA]",
        IGNORECASE,
        2,
    ),
    "github_token": (
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})" + _T,
        r"(?<![A-Za-z0-9_])g",
        0,
        2,
    ),
    "slack_token": (r"(?<![A-Za-z0-9_-])xox[abposre]-[A-Za-z0-9-]{10,250}" + _T, r"(?<![A-Za-z0-9_-])x", 0, 2),
    "google_api_key": (r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}" + _T, r"(?<![A-Za-z0-9_-])A", 0, 2),
    "stripe_key": (
        r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,247}(?![A-Za-z0-9_])",
        r"(?<![A-Za-z0-9_])[sr]",
        0,
        2,
    ),
    "jwt": (
        r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096}"
        r"(?![A-Za-z0-9_.-])",
        r"(?<![A-Za-z0-9_-])e",
        0,
        2,
    ),
    "private_key": (
        r"-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[ \t]{0,8}\r?\n(?:Proc-Type|DEK-Info|Comment):[^\n]{0,256}){0,3}"
        r"[A-Za-z0-9+/=\s]{0,16384}"
        r"(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----)?",
        r"-",
        0,
        72,
    ),
    "connection_string": (
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,31}://[^\s:/@\"'<>]{1,128}:[^\s@/\"'<>]{1,256}@"
        r"[^\s/?#\"'<>@]{1,255}(?![^\s/?#\"'<>@])",
        r"(?<![A-Za-z0-9+.-])[A-Za-z](?=[A-Za-z0-9+.-]{1,31}(?::|\Z)|\Z)",
        0,
        2,
    ),
    "password_assignment": (
        r"(?<![A-Za-z0-9_])(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)"
        r"[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?(?P<value>[^\s\"'<>]{8,200})(?![^\s\"'<>])",
        r"(?<![A-Za-z0-9_])[pPsSaA]",
        IGNORECASE,
        2,
    ),
}
_PLACEHOLDERS = {
    "private_key": "<PRIVATE_KEY>",
    "connection_string": "<CONNECTION_STRING>",
    "password_assignment": "<PASSWORD>",
    "jwt": "<JWT>",
}


def _mixed(value: str) -> bool:
    """A value mixing letters with digits or symbols: plausibly a real password, not a word."""
    letters = any(c.isalpha() for c in value)
    others = any(not c.isalpha() for c in value)
    return letters and others and not value.startswith(("{", "$", "%"))


class _SecretRule:
    __slots__ = ("action", "kind", "pattern", "placeholder", "starter", "tail")

    def __init__(self, kind: str, action: HitAction) -> None:
        source, start, flags, tail = SECRET_PATTERNS[kind]
        self.kind = kind
        self.pattern: Pattern = compile_pattern(source, flags)
        self.starter: Pattern = compile_pattern(start)
        self.tail = tail
        self.action: HitAction = action
        self.placeholder = _PLACEHOLDERS.get(kind, f"<{kind.upper()}>")

    def judge(self, m: Match, base: int) -> Hit | None:
        if self.kind == "password_assignment":
            value: str = m.group("value")
            if not _mixed(value):
                return None
            # Keep the key name visible; only the value is the secret.
            return Hit(base + m.start("value"), base + m.end(), "secrets", self.kind, self.action, self.placeholder)
        if self.kind == "private_key" and m.end() - m.start() < 64:
            return None
        return Hit(base + m.start(), base + m.end(), "secrets", self.kind, self.action, self.placeholder)


class SecretsDetector:
    """Immutable secrets detector built from ``SecretsConfig``."""

    __slots__ = ("_rules",)

    def __init__(self, config: SecretsConfig) -> None:
        self._rules = tuple(_SecretRule(kind, config.action) for kind in config.kinds)

    def new_scanner(self, ctx: StreamContext) -> PatternScanner | None:
        """One scanner per stream; the context does not matter to secrets."""
        del ctx
        return PatternScanner(self._rules) if self._rules else None
