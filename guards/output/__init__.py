"""Response-side guards: PII, secrets, system-prompt leak and exfiltration, run while streaming.

The stream relay builds one ``OutputChain`` per guard policy and one ``OutputFilter`` per choice
per stream (``chain.new_filter(ctx)``), feeds it each delta's content and forwards what
``feed``/``finish`` release. See ``guards.output.window`` for the hold-back rules.
"""

from __future__ import annotations

from guards.output.base import FilterStep, Finding, Hit, StreamContext
from guards.output.chain import OutputChain
from guards.output.window import OutputFilter

__all__ = ["FilterStep", "Finding", "Hit", "OutputChain", "OutputFilter", "StreamContext"]
