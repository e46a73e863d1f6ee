"""Verdict union and ``merge``."""

from __future__ import annotations

import msgspec

from guards.verdict import Allow, Block, Redact, RedactSpan, Verdict, merge


def test_merge_block_wins_and_first_block_is_kept() -> None:
    first = Block("pii.CREDIT_CARD", "stopped")
    verdicts: list[Verdict] = [Redact((RedactSpan(0, 2, "X"),)), first, Block("leak.canary", "other")]
    assert merge(verdicts) is first


def test_merge_unions_overlapping_redactions() -> None:
    merged = merge(
        [
            Redact((RedactSpan(10, 20, "EMAIL_ADDRESS"), RedactSpan(30, 35, "jwt"))),
            Allow(),
            Redact((RedactSpan(5, 12, "URL"), RedactSpan(20, 25, "PHONE_NUMBER"), RedactSpan(31, 33, "x"))),
        ]
    )
    assert merged == Redact((RedactSpan(5, 20, "URL"), RedactSpan(20, 25, "PHONE_NUMBER"), RedactSpan(30, 35, "jwt")))


def test_merge_of_nothing_allows() -> None:
    assert merge([]) == Allow()
    assert merge([Allow(), Redact(())]) == Allow()


def test_verdicts_round_trip_as_a_tagged_union() -> None:
    for verdict in (Allow(), Block("r", "m"), Redact((RedactSpan(1, 2, "L"),))):
        raw = msgspec.json.encode(verdict)
        assert msgspec.json.decode(raw, type=Verdict) == verdict
