"""The request-side input policy: one pure function from a chat request to a verdict.

``InputGuard`` is built once from an ``InputPolicy`` and an ``InjectionScreen``; ``apply``
takes the client's messages, ``documents`` and ``template`` plus what the proxy knows
(whether the key has the ``system`` scope, a per-request random token) and returns an
``InputResult``: the rewritten messages, the verdict, the score, the rule ids and the
findings for the audit log. It never raises for bad content; ``ValueError`` means a bug in the
caller (a malformed token).

Order of steps:

1. template: its system prompt (verbatim) + its variables as separate user content;
2. system role: ``system``/``developer`` messages from a key without the scope are rejected
   (verdict ``forbidden``, the proxy answers 403) or demoted to user content, per policy;
3. screen: user content is scanned as ``direct``, tool results and documents as ``indirect``;
4. decide: a forced rule action or ``score >= threshold`` gives the policy's action;
   ``block`` wins over ``neutralize``; ``observe`` only records;
5. spotlight: tool results and documents are always wrapped (unless ``spotlight: off``),
   neutralized user content too; one gateway system instruction explains the markers.

Verdicts: ``allow``, ``neutralize`` (pass, rewritten, recorded), ``block`` (400
``prompt_injection_detected``), ``forbidden`` (403, system role), ``invalid`` (400, template).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from guards.input.screen_memo import ScreenMemo
from guards.input.spotlight import check_token, datamark, delimit, instruction
from guards.input.templates import TemplateError, render_template
from schemas.chat import ChatMessage, ContentPart, message_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from guards.injection.screen import InjectionScreen
    from schemas.chat import TemplateRef
    from schemas.input_guard_config import InputPolicy

__all__ = ["Finding", "InputGuard", "InputResult", "Verdict"]

Verdict = Literal["allow", "neutralize", "block", "forbidden", "invalid"]
_SYSTEM_ROLES = frozenset({"system", "developer"})


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """The screen's result for one piece of content (for the audit log; never holds the text)."""

    location: str
    """``messages[3]`` (index in the client's messages) or ``documents[0]``."""
    vector: Literal["direct", "indirect"]
    score: float
    flagged: bool
    action: Literal["none", "block", "neutralize", "observe"]
    rule_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    observed_rule_ids: tuple[str, ...] = ()


class InputResult(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of the input policy for one request."""

    verdict: Verdict
    messages: tuple[ChatMessage, ...]
    """The messages to send upstream (documents folded in); the client's input when not allowed."""
    score: float = 0.0
    rule_ids: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    """Client-safe reason for ``block`` / ``forbidden`` / ``invalid``."""
    spotlighted: bool = False


class _Item(msgspec.Struct):
    location: str
    vector: Literal["direct", "indirect"]
    text: str


class InputGuard:
    """Immutable request-side policy."""

    __slots__ = ("_memo", "_policy", "_screen")

    def __init__(self, policy: InputPolicy, screen: InjectionScreen | None, memo: ScreenMemo | None = None) -> None:
        """Bind a policy to its screen (``None`` disables screening, e.g. for tests of the other steps).

        ``memo`` remembers screen results of texts seen before (a chat's history comes back on every
        turn); by default each guard has its own, so a rebuilt guard (a reload) starts empty.
        """
        self._policy = policy
        self._screen = screen
        self._memo = memo if memo is not None else ScreenMemo()

    @property
    def policy(self) -> InputPolicy:
        """The policy this guard enforces."""
        return self._policy

    def apply(
        self,
        messages: Sequence[ChatMessage],
        *,
        token: str,
        system_scope: bool,
        documents: Sequence[str] | None = None,
        template: TemplateRef | None = None,
        memo_scope: str = "",
    ) -> InputResult:
        """Run the whole input policy on one request (see the module docstring for the steps).

        Args:
            messages: The client's messages.
            token: Per-request random token for the spotlight markers (8-64 letters/digits).
            system_scope: Whether the API key may send system/developer messages.
            documents: The ``documents`` extension field (untrusted retrieved text).
            template: The ``template`` extension field.
            memo_scope: Whose remembered screen results this request may reuse (the proxy passes the
                tenant: a memo hit is faster, and one tenant must not learn by timing what another sent).

        Raises:
            ValueError: ``token`` is malformed (a caller bug).
        """
        check_token(token)
        original = tuple(messages)
        prefix: list[ChatMessage] = []
        if template is not None:
            try:
                prefix = render_template(template, self._policy.templates)
            except TemplateError as exc:
                return InputResult(verdict="invalid", messages=original, error=str(exc))
        client: list[ChatMessage] = []
        for index, message in enumerate(original):
            if message.role in _SYSTEM_ROLES and not system_scope and self._policy.system_role != "allow":
                if self._policy.system_role == "reject":
                    return InputResult(
                        verdict="forbidden",
                        messages=original,
                        error=f"messages[{index}]: this API key may not send {message.role} messages",
                    )
                message = ChatMessage(role="user", content=message.content, name=message.name)
            client.append(message)
        items = self._items(client, documents or ())
        findings = tuple(self._scan(item, memo_scope) for item in items)
        actions = {f.action for f in findings}
        verdict: Verdict = "block" if "block" in actions else "neutralize" if "neutralize" in actions else "allow"
        score = max((f.score for f in findings), default=0.0)
        rule_ids = tuple(dict.fromkeys(r for f in findings if f.flagged for r in f.rule_ids))
        if verdict == "block":
            error = "prompt injection detected (rules: " + (", ".join(rule_ids) or "score") + ")"
            return InputResult(
                verdict=verdict, messages=original, score=score, rule_ids=rule_ids, findings=findings, error=error
            )
        neutralized = {f.location for f in findings if f.action == "neutralize"}
        rewritten, spotlighted = self._spotlight(client, documents or (), neutralized, token)
        return InputResult(
            verdict=verdict,
            messages=tuple(prefix + rewritten),
            score=score,
            rule_ids=rule_ids,
            findings=findings,
            spotlighted=spotlighted,
        )

    @staticmethod
    def _items(client: list[ChatMessage], documents: Sequence[str]) -> list[_Item]:
        items: list[_Item] = []
        for index, message in enumerate(client):
            if message.role == "user":
                items.append(_Item(f"messages[{index}]", "direct", message_text(message)))
            elif message.role in ("tool", "function"):
                items.append(_Item(f"messages[{index}]", "indirect", message_text(message)))
        items.extend(_Item(f"documents[{index}]", "indirect", text) for index, text in enumerate(documents))
        return items

    def _scan(self, item: _Item, scope: str) -> Finding:
        if self._screen is None or not item.text.strip():
            return Finding(location=item.location, vector=item.vector, score=0.0, flagged=False, action="none")
        result = self._memo.get(scope, item.vector, item.text)
        if result is None:
            result = self._screen.scan(item.text, item.vector)
            self._memo.put(scope, item.vector, item.text, result)
        action: Literal["none", "block", "neutralize", "observe"] = "none"
        if result.forced_action is not None:
            action = result.forced_action
        elif result.flagged:
            action = self._policy.injection.action
        elif result.observed_rule_ids:
            action = "observe"
        return Finding(
            location=item.location,
            vector=item.vector,
            score=round(result.score, 4),
            flagged=result.flagged,
            action=action,
            rule_ids=result.rule_ids,
            categories=result.categories,
            observed_rule_ids=result.observed_rule_ids,
        )

    def _spotlight(
        self, client: list[ChatMessage], documents: Sequence[str], neutralized: set[str], token: str
    ) -> tuple[list[ChatMessage], bool]:
        mode = self._policy.spotlight
        if mode == "off" and not neutralized:
            out = list(client)
            if documents:
                out.insert(_after_system(out), ChatMessage(role="user", content="\n\n".join(documents)))
            return out, False
        wrap_mode: Literal["delimit", "datamark"] = "datamark" if mode == "datamark" else "delimit"
        wrap = datamark if wrap_mode == "datamark" else delimit
        always = mode != "off"
        out = []
        for index, message in enumerate(client):
            location = f"messages[{index}]"
            if message.role in ("tool", "function") and (always or location in neutralized):
                out.append(_rewrap(message, lambda t: wrap(t, token, "tool-result")))
            elif message.role == "user" and location in neutralized:
                out.append(_rewrap(message, lambda t: wrap(t, token, "user-input")))
            else:
                out.append(message)
        if documents:
            parts = [
                wrap(text, token, "document") if always or f"documents[{i}]" in neutralized else text
                for i, text in enumerate(documents)
            ]
            out.insert(_after_system(out), ChatMessage(role="user", content="\n\n".join(parts)))
        if out == client:
            return out, False  # nothing untrusted: no need to explain markers that are not there
        out.insert(0, ChatMessage(role="system", content=instruction(wrap_mode, token)))
        return out, True


def _after_system(messages: list[ChatMessage]) -> int:
    index = 0
    while index < len(messages) and messages[index].role in _SYSTEM_ROLES:
        index += 1
    return index


def _rewrap(message: ChatMessage, wrap: Callable[[str], str]) -> ChatMessage:
    content = message.content
    if isinstance(content, list):
        parts = [ContentPart(type=p.type, text=wrap(p.text)) if p.text is not None else p for p in content]
        return ChatMessage(role=message.role, content=parts, name=message.name, tool_call_id=message.tool_call_id)
    return ChatMessage(
        role=message.role, content=wrap(content or ""), name=message.name, tool_call_id=message.tool_call_id
    )
