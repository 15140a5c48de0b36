"""LiteLLM's ``litellm.types.llms`` package: the OpenAI request types live in
:mod:`rustllm.types.llms.openai`. Provider-internal type modules are out of scope."""
