"""The part of LiteLLM's ``litellm.proxy`` that guardrail and callback classes import
(:mod:`rustllm.proxy._types`). The proxy itself is ``rustllm proxy`` (Rust)."""
