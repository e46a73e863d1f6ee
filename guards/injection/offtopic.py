"""The ``offtopic_task`` signal: a request line in a document that has nothing to do with the document.

Indirect injections of the BIPIA kind slip a task into an e-mail or a document ("Write a poem
about the sea.", "Who wrote Romeo and Juliet?"). A line that is a request of its own (an
imperative or a question standing alone, as in ``override.task_in_document``) is normal in
documents (an FAQ, a README, meeting notes); what sets the injected one apart is that it is
*off-topic*: it shares no content word with the rest of the text, while a FAQ's "How do I
reset my password?" sits next to "Forgot password".

This module owns that test and nothing else: pure, stateless, O(len(text)). The screen asks
it on the indirect vector only and adds the ``offtopic_task`` signal, which a rule in the
rules file weighs (``signals: [offtopic_task]``).

Precision guards, each one because ordinary documents need it:

- only a document with exactly one request line is judged: a checklist or a FAQ made of
  requests is instructional text, not one stray task;
- the request must carry ``MIN_LINE_WORDS`` content words and the rest of the text
  ``MIN_CONTEXT_WORDS``: on fewer words, "no shared word" is not evidence;
- words are compared by a crude stem (the first ``STEM`` letters of a lower-cased word),
  so "changes" meets "change" and "passwords" meets "password".
"""

from __future__ import annotations

import re

__all__ = ["MIN_CONTEXT_WORDS", "MIN_LINE_WORDS", "SIGNAL", "STEM", "content_stems", "offtopic_task"]

SIGNAL = "offtopic_task"
"""The signal name, as the rules file spells it."""
MIN_LINE_WORDS = 2
"""A request line needs at least this many content stems to be judged."""
MIN_CONTEXT_WORDS = 6
"""The rest of the document needs at least this many distinct content stems to be judged against."""
STEM = 5
"""Words are compared by their first ``STEM`` letters."""

# The request forms of ``override.task_in_document`` (default_rules.yaml), over lower-cased text.
_REQUEST = re.compile(
    r"^[ \t]*(?:"
    r"(?:write|compose|draft|provide|develop|explain|describe|translate|break down|create|generate"
    r"|give me|tell me|summari[sz]e|outline)\b[^\n]{0,100}"
    r"|(?:who|what|what's|how|why|which|can you|could you)\b[^\n?]{3,100}\?[ \t]*"
    r")$",
    re.MULTILINE,
)
_WORD = re.compile(r"[a-z]{3,}")
# Other lines that ask or instruct: a question anywhere in the line, or a line that opens (after a
# bullet, a number or "step n") with a common imperative verb. One of them makes the text
# instructional (a recipe, a lesson plan, a FAQ), where a request line is at home.
_INSTRUCTION = re.compile(
    r"^[ \t]*(?:[-*\u2022>]+[ \t]*|(?:step[ \t]*)?\d+[.):][ \t]*)?(?:"
    r"add|apply|ask|bake|book|bring|call|change|check|choose|chop|click|close|come|contact|copy|cut"
    r"|delete|discuss|do|don't|download|enter|fill|find|follow|get|give|go|install|keep|let|log|look"
    r"|make|mix|move|note|open|pick|place|please|press|put|read|remember|remove|rename|reply|return"
    r"|run|save|see|select|send|serve|set|sign|start|stir|stop|take|try|turn|type|update|use|visit|wait"
    r")\b|^[^\n?]*\?",
    re.MULTILINE,
)

# Function words and the generic vocabulary of requests: neither says what a text is about
# (words under three letters never reach the comparison).
_STOP_WORDS = """
the and for are but not you your yours all any can had has have her his him how its our out who
what whats when where which why will with would could should shall may might must does did doing
done was were been being this that these those there their them they then than from into onto
upon about above below after before again also just only very more most much many some such
own same other each every both few nor off over under once here too per via yet let lets
well way ways get got give gives given make makes made tell told say says said use used using
need needs want wants like please thanks thank one two three new old first last next good
best better great really thing things something anything everything kind sort type types lot
write writes written compose draft provide develop explain explains describe translate break
down create generate summarize summarise outline list short brief simple detailed essay
poem story article paragraph sentence sentences words word piece example examples mine she
"""
_STOP = frozenset(_STOP_WORDS.split())


def content_stems(text: str) -> set[str]:
    """Return the stems of the content words of a lower-cased text (stop words and request words dropped)."""
    return {word[:STEM] for word in _WORD.findall(text) if word not in _STOP}


def offtopic_task(text: str) -> bool:
    """Return whether a lower-cased document holds a single request line off-topic for the rest.

    Args:
        text: The normalised (lower-cased) text of an untrusted document or tool result.

    Returns:
        ``True`` when the text has exactly one request line, that line has at least
        ``MIN_LINE_WORDS`` content stems, the rest has at least ``MIN_CONTEXT_WORDS``, and
        they share none.
    """
    matches = list(_REQUEST.finditer(text))
    if len(matches) != 1:
        return False
    match = matches[0]
    if any(other.start() != match.start() for other in _INSTRUCTION.finditer(text)):
        return False
    line = content_stems(match.group())
    if len(line) < MIN_LINE_WORDS:
        return False
    context = content_stems(text[: match.start()]) | content_stems(text[match.end() :])
    return len(context) >= MIN_CONTEXT_WORDS and line.isdisjoint(context)
