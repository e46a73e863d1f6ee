"""Base classes for every msgspec Struct in the project.

Two families, on purpose:

* ``ConfigStruct``: strict. Frozen, keyword-only, unknown fields are an error, so a
  typo in the YAML fails startup with the field path instead of being ignored.
* ``WireStruct``: tolerant. Provider and client payloads evolve; unknown fields are
  ignored and new optional fields get defaults (msgspec's schema-evolution rules).

msgspec inherits ``frozen``, ``forbid_unknown_fields`` and ``omit_defaults`` but not
``kw_only``: subclasses that mix required and defaulted fields declare
``class X(ConfigStruct, kw_only=True)`` themselves.
"""

from __future__ import annotations

from typing import dataclass_transform

import msgspec

__all__ = ["ConfigStruct", "WireStruct"]


# The decorator tells type checkers that subclasses are frozen too (msgspec inherits
# ``frozen`` at run time, but mypy would otherwise see a non-frozen child of a frozen base).
@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(msgspec.field,))
class ConfigStruct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every configuration type: frozen, keyword-only, strict."""


class WireStruct(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every wire type: tolerant of unknown fields, omits defaults when encoded."""
