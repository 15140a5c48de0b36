"""LiteLLM's ``litellm.secret_managers``: :func:`get_secret` reads environment variables
(rustllm has no secret-manager back ends)."""
