"""LiteLLM's ``litellm.litellm_core_utils``: the few helpers programs import from it."""
