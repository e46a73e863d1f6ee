"""Training sets of the two classifier heads, from corpus/injection (dev split only) + synthetic text.

Licensing: only what ``corpus/injection/dev.jsonl`` holds (permissive sources) and the
gateway-authored ``synthetic_injection`` text. Tensor Trust and WildGuard are never read here.

Direct head: the ``direct`` dev cases, plus synthetic extraction / hijacking messages and
synthetic benign framings (``benign_framings``, ``benign_edgy``: training rows only, not calibration).

Indirect head (sentence level): positives are the BIPIA payloads of dev cases (minus any payload
that also occurs in a held-out case, so the held-out split measures unseen payloads), short
direct attacks, and synthetic injected instructions; negatives are the sentences of dev benign
documents, the context sentences of dev attack documents (payload cut out), and synthetic
document sentences and programming answers (``code_answers``, ``benign_code``). Whole
documents (dev indirect cases + synthetic benign documents) are kept apart for calibrating the
operating point.
"""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, NamedTuple

import msgspec
from benign_code import second_person_answers
from benign_edgy import benign_edgy
from benign_framings import benign_framings
from synthetic_injection import code_answers, direct_attacks, document_sentences, indirect_payloads

from guards.text import normalize

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Example", "HeadData", "direct_data", "indirect_data", "load_cases"]

_SHORT_ATTACK = 300


class Example(NamedTuple):
    """One training text (already normalised), its label and its cross-validation group."""

    text: str
    label: int
    group: str


class HeadData(NamedTuple):
    """Rows to fit on, and whole texts to calibrate the operating point on (same groups)."""

    rows: list[Example]
    calibration: list[Example]


def load_cases(path: Path) -> list[dict[str, str]]:
    """Decode a corpus JSONL file into plain dicts (keeps the extra ``payload`` field)."""
    lines = path.read_bytes().splitlines()
    return [msgspec.json.decode(line, type=dict[str, str]) for line in lines if line.strip()]


def _group(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def direct_data(dev: list[dict[str, str]]) -> HeadData:
    """Return the direct head's rows and calibration texts.

    Rows: each dev direct case, synthetic attacks and synthetic benign framings. Calibration:
    the same minus the benign framings, so that adding easy training negatives does not pull
    the operating point (a benign quantile) down.
    """
    rows = [
        Example(normalize(c["text"]).text, int(c["label"] == "attack"), c["id"]) for c in dev if c["vector"] == "direct"
    ]
    rows += [Example(normalize(t).text, 1, _group(t)) for t in direct_attacks()]
    framings = [Example(normalize(t).text, 0, _group(t)) for t in (*benign_framings(), *benign_edgy())]
    return HeadData(rows + framings, rows)


def _sentences(text: str) -> list[str]:
    parts = [p.strip() for p in text.replace("\n", " \n").splitlines()]
    out: list[str] = []
    for part in parts:
        out.extend(s.strip() for s in part.replace("? ", "?\n").replace("! ", "!\n").replace(". ", ".\n").split("\n"))
    return [s for s in out if len(s) >= 12]


def indirect_data(dev: list[dict[str, str]], heldout: list[dict[str, str]], seed: int = 5) -> HeadData:
    """Return the indirect head's sentence rows and its document-level calibration set."""
    held_payloads = {c["payload"] for c in heldout if "payload" in c}
    rows: list[Example] = []
    calibration: list[Example] = []
    for case in dev:
        if case["vector"] != "indirect":
            if case["label"] == "attack" and len(case["text"]) <= _SHORT_ATTACK:
                rows.append(Example(normalize(case["text"]).text, 1, case["id"]))
            continue
        payload = case.get("payload")
        if payload is not None and payload in held_payloads:
            continue  # would leak a held-out payload into training
        group = _group(payload) if payload is not None else case["id"]
        calibration.append(Example(normalize(case["text"]).text, int(case["label"] == "attack"), group))
        context = case["text"]
        if payload is not None:
            context = context.replace(payload, "\n")
            rows.append(Example(normalize(payload).text, 1, group))
            intro = payload.split("\n", 1)[0]
            if intro != payload:
                rows.append(Example(normalize(intro).text, 1, group))
        ctx_group = _group(context[:200])
        rows.extend(Example(normalize(s).text, 0, ctx_group) for s in _sentences(context))
    rows += [Example(normalize(t).text, 1, _group(t)) for t in indirect_payloads()]
    sentences = document_sentences()
    rows += [Example(normalize(t).text, 0, _group(t)) for t in sentences]
    for answer in (*code_answers(), *second_person_answers()):
        group = _group(answer)
        rows.extend(Example(normalize(s).text, 0, group) for s in _sentences(answer))
        rows.append(Example(normalize(answer).text, 0, group))
    rng = random.Random(seed)
    calibration.extend(Example(normalize(a).text, 0, _group(a)) for a in code_answers(seed=seed + 100, n=60))
    singles = [s for s in sentences if s.count(". ") == 0]
    for _ in range(150):
        doc = "\n".join(rng.sample(singles, rng.randrange(4, 10)))
        calibration.append(Example(normalize(doc).text, 0, _group(doc)))
    return HeadData(rows, calibration)
