"""A real HTTP fake of the OpenAI and Anthropic APIs, with fault injection, for tests and benchmarks.

Run it alone with ``python -m fakeupstream --host 127.0.0.1 --port 9000``, or in-process with
``FakeUpstream`` (a server in a background thread). Behaviour is chosen per request by a
directive in the model name or by the control API: see ``fakeupstream.directives``.
"""

from __future__ import annotations

from fakeupstream.directives import Directive, DirectiveError
from fakeupstream.server import FakeUpstream, make_app
from fakeupstream.state import RequestRecord, Stats, UsageRecord

__all__ = ["Directive", "DirectiveError", "FakeUpstream", "RequestRecord", "Stats", "UsageRecord", "make_app"]
