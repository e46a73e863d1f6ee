"""Optional named-entity PII (names, places, groups) from a spaCy NER model, through Presidio.

Patterns cannot find a person's name; a statistical NER model can. ``pii.ner`` (``NerConfig``)
names a spaCy pipeline, which Presidio's ``SpacyNlpEngine`` runs behind its ``SpacyRecognizer``.
The model is loaded from an installed package or a saved pipeline directory and never downloaded
(Presidio would download a missing model; this module refuses before it could): the offline
gateway has no network at run time, and a missing model is a configuration error
(``NerModelError``), reported at startup and by ``gateway check-config``.

Streaming: NER needs a sentence of context, so ``NerScanner`` cuts the stream into sentence
windows and analyses each once it is complete. A window ends after ``.``, ``!`` or ``?`` followed
by whitespace, or at a newline; a sentence longer than ``max_sentence_chars`` is cut at its last
whitespace before that length. Window boundaries depend only on the text, never on how it was
chunked, and each window is analysed whole, so the output is chunk-independent like every other
scanner's. The price is the hold-back: text is released a sentence at a time (``workers.mode:
process`` runs the model off the event loop, in the same sentence batches).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from guards.output.base import Hit
from guards.output.rx import compile_pattern

if TYPE_CHECKING:
    from guards.output.base import HitAction, StreamContext
    from schemas.output_guard_config import NerConfig

__all__ = ["NerDetector", "NerModelError", "NerScanner", "ensure_installed"]

_BOUNDARY = compile_pattern(r"[.!?](?=\s)|\n")


class NerModelError(ValueError):
    """The configured spaCy model is not installed (it is never downloaded) or cannot be loaded."""


def ensure_installed(config: NerConfig) -> None:
    """Check that the model is there, without loading it (cheap: for the main process in process mode).

    Raises:
        NerModelError: it is neither an installed spaCy package nor a directory.
    """
    import spacy

    if not (spacy.util.is_package(config.model) or Path(config.model).is_dir()):
        raise NerModelError(
            f"pii.ner.model: spaCy model {config.model!r} is not installed and is never downloaded; "
            "install its package (pip install <model wheel>) or give the path of a saved pipeline"
        )


def _load_engine(config: NerConfig) -> Any:
    # Imported here: only a policy with ``pii.ner`` pays for spaCy models.
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    ensure_installed(config)
    name = config.model
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": name}], ner_model_configuration=NerModelConfiguration()
    )
    try:
        engine.load()
    except (OSError, ValueError) as exc:
        raise NerModelError(f"pii.ner.model: cannot load spaCy model {name!r}: {exc}") from exc
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=list(config.entities)))
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


class NerDetector:
    """Immutable NER detector: the model loaded once per guard policy; ``new_scanner`` per stream."""

    __slots__ = ("_action", "_config", "_engine")

    def __init__(self, config: NerConfig, action: HitAction) -> None:
        """Load the model.

        Raises:
            NerModelError: the model is not installed or cannot be loaded.
        """
        self._config = config
        self._action: HitAction = action
        self._engine = _load_engine(config)

    def new_scanner(self, ctx: StreamContext) -> NerScanner:
        """One scanner per stream; the context does not matter to NER."""
        del ctx
        return NerScanner(self)

    def analyze(self, text: str, base: int) -> list[Hit]:
        """Hits in one sentence window (offsets absolute: ``base`` + relative)."""
        cfg = self._config
        results = self._engine.analyze(
            text=text, language="en", entities=list(cfg.entities), score_threshold=cfg.min_score
        )
        hits = [
            Hit(base + int(r.start), base + int(r.end), "pii", str(r.entity_type), self._action, f"<{r.entity_type}>")
            for r in results
            if r.end > r.start
        ]
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    @property
    def max_chars(self) -> int:
        """Longest window analysed at once."""
        return self._config.max_sentence_chars


class NerScanner:
    """Per-stream sentence windows; see the module docstring."""

    __slots__ = ("_detector", "_start")

    def __init__(self, detector: NerDetector) -> None:
        self._detector = detector
        self._start = 0  # absolute start of the window not analysed yet

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """See ``DetectorScanner.scan``."""
        hits: list[Hit] = []
        limit = self._detector.max_chars
        end = base + len(buf)
        while self._start < end:
            rel = self._start - base
            span = buf[rel : rel + limit + 1]  # one more: the boundary's lookahead may need it
            m = _BOUNDARY.search(span)
            if m is not None and m.end() <= limit:
                cut = m.end()
            elif len(span) > limit:
                space = max(span.rfind(" ", 0, limit), span.rfind("\t", 0, limit))
                cut = space + 1 if space > 0 else limit
            elif final:
                cut = len(span)
            else:
                break
            window = span[:cut]
            if window.strip():
                hits.extend(self._detector.analyze(window, self._start))
            self._start += cut
        return hits, min(self._start, end)
