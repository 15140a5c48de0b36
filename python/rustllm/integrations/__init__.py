"""Integrations: :class:`rustllm.integrations.custom_logger.CustomLogger`, the base class
of logging callbacks (LiteLLM's import path)."""
