"""LiteLLM's ``litellm.types.guardrails``: the names guardrail classes import.

``GuardrailEventHooks`` says when a guardrail runs (its ``event_hook``, the config's
``mode``); ``PiiAction`` and ``PiiEntityType`` are the Presidio spelling that
``rustllm.guardrails.Guardrail`` also reads (``pii_entities_config``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypedDict

__all__ = [
    "DynamicGuardrailParams",
    "GuardrailEventHooks",
    "PiiAction",
    "PiiEntityType",
    "SupportedGuardrailIntegrations",
]


class GuardrailEventHooks(str, Enum):
    """When a guardrail runs: before the call (``pre_call``, may change or refuse the
    request), in parallel with it (``during_call``, may refuse it), on the reply
    (``post_call``), or only to log (``logging_only``)."""

    pre_call = "pre_call"
    post_call = "post_call"
    during_call = "during_call"
    logging_only = "logging_only"


class SupportedGuardrailIntegrations(Enum):
    """The ``guardrail:`` values rustllm runs itself: its built-in detectors (``rustllm``,
    also read under LiteLLM's ``presidio`` spelling)."""

    RUSTLLM = "rustllm"
    BUILTIN = "builtin"
    PRESIDIO = "presidio"


class PiiAction(str, Enum):
    """What a Presidio-style ``pii_entities_config`` does with an entity."""

    BLOCK = "BLOCK"
    MASK = "MASK"


class PiiEntityType(str, Enum):
    """The Presidio entity names rustllm's built-in detectors understand."""

    CREDIT_CARD = "CREDIT_CARD"
    EMAIL_ADDRESS = "EMAIL_ADDRESS"
    IBAN_CODE = "IBAN_CODE"
    IP_ADDRESS = "IP_ADDRESS"
    PHONE_NUMBER = "PHONE_NUMBER"
    US_SSN = "US_SSN"


class DynamicGuardrailParams(TypedDict, total=False):
    """Per-request settings of a guardrail: ``guardrails=[{"name": {"extra_body": {...}}}]``."""

    extra_body: dict[str, Any]
