"""``litellm.llms``: of LiteLLM's provider package, only what user code imports (the
custom provider base class, :mod:`rustllm.llms.custom_llm`)."""
