"""Rate limits, concurrency limits and spend caps, exact across replicas (DESIGN.md section 4).

The request path calls :meth:`Limits.admit` before the upstream attempt and :meth:`Limits.settle` after it
(always, in ``finally``); /admin/usage calls :meth:`Limits.usage`. Prompt tokens come from
:class:`TokenCounter`.
"""

from __future__ import annotations

from proxy.limits.policy import DEFAULT_LEASE_MS, Limits
from proxy.limits.pricing import MicroPrice, cost_micro_usd, micro_price
from proxy.limits.tokens import PromptMessage, TokenCounter, encoding_name_for
from proxy.limits.types import Admission, AdmissionRequest, BucketReport, Usage, UsageReport

__all__ = [
    "DEFAULT_LEASE_MS",
    "Admission",
    "AdmissionRequest",
    "BucketReport",
    "Limits",
    "MicroPrice",
    "PromptMessage",
    "TokenCounter",
    "Usage",
    "UsageReport",
    "cost_micro_usd",
    "encoding_name_for",
    "micro_price",
]
