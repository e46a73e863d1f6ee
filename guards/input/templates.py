"""Named prompt templates: the system prompt is the gateway's, variables are separate user content.

A template invocation never interpolates caller text into the system prompt: the template's
``system`` goes in verbatim as a system message, and the variables follow as one user
message whose text parts are ``name: value``, one per declared variable (in the template's
declared order). Unknown templates, missing variables and undeclared variables are errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.chat import ChatMessage, ContentPart

if TYPE_CHECKING:
    from schemas.chat import TemplateRef
    from schemas.input_guard_config import PromptTemplate

__all__ = ["TemplateError", "render_template"]


class TemplateError(ValueError):
    """A template invocation is invalid (unknown name, missing or undeclared variables)."""


def render_template(ref: TemplateRef, templates: dict[str, PromptTemplate]) -> list[ChatMessage]:
    """Return the system message and the variables message of a template invocation.

    Raises:
        TemplateError: The template does not exist, or the variables do not match its declaration.
    """
    template = templates.get(ref.name)
    if template is None:
        raise TemplateError(f"unknown prompt template {ref.name!r}")
    declared = set(template.variables)
    given = set(ref.variables)
    problems = []
    if missing := sorted(declared - given):
        problems.append(f"missing variables: {', '.join(missing)}")
    if unknown := sorted(given - declared):
        problems.append(f"undeclared variables: {', '.join(unknown)}")
    if problems:
        raise TemplateError(f"template {ref.name!r}: " + "; ".join(problems))
    messages = [ChatMessage(role="system", content=template.system)]
    if template.variables:
        parts = [ContentPart(type="text", text=f"{name}: {ref.variables[name]}") for name in template.variables]
        messages.append(ChatMessage(role="user", content=parts))
    return messages
