"""Integrations: :class:`rustllm.integrations.custom_logger.CustomLogger`, the base class
of logging callbacks, and :class:`rustllm.integrations.custom_guardrail.CustomGuardrail`,
the base class of guardrails (LiteLLM's import paths)."""
