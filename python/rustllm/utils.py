"""LiteLLM's ``litellm.utils``: the public helpers programs import from it (model
capabilities and info, token counting, supported parameters, environment checks) and
the response classes it re-exports."""

from __future__ import annotations

import os

from rustllm import (
    _core,
    completion_cost,
    cost_per_token,
    decode,
    encode,
    get_llm_provider,
    get_max_tokens,
    get_model_info,
    get_supported_openai_params,
    register_model,
    supports_function_calling,
    supports_parallel_function_calling,
    supports_prompt_caching,
    supports_reasoning,
    supports_response_schema,
    supports_system_messages,
    supports_tool_choice,
    supports_vision,
    token_counter,
)
from rustllm._helpers import check_valid_key, get_valid_models, trim_messages
from rustllm.secret_managers.main import get_secret, get_secret_bool
from rustllm.streaming import CustomStreamWrapper, stream_chunk_builder
from rustllm.types.utils import (
    CallTypes,
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    TranscriptionResponse,
    Usage,
)

__all__ = [
    "CallTypes",
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "Choices",
    "CustomStreamWrapper",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "FunctionCall",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "StreamingChoices",
    "TextChoices",
    "TextCompletionResponse",
    "TranscriptionResponse",
    "Usage",
    "completion_cost",
    "cost_per_token",
    "decode",
    "encode",
    "get_llm_provider",
    "get_max_tokens",
    "get_model_info",
    "check_valid_key",
    "get_valid_models",
    "trim_messages",
    "get_secret",
    "get_secret_bool",
    "get_supported_openai_params",
    "register_model",
    "stream_chunk_builder",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_prompt_caching",
    "supports_reasoning",
    "supports_response_schema",
    "supports_system_messages",
    "supports_tool_choice",
    "supports_vision",
    "token_counter",
    "validate_environment",
]

# The environment variables LiteLLM's validate_environment asks for, per provider
# (reference 1.75.8). "all": every name must be set (all are reported missing
# otherwise); "any": one of them suffices, and the listed ones are reported.
_ENV_ALL: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "azure": ("AZURE_API_BASE", "AZURE_API_VERSION", "AZURE_API_KEY"),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "replicate": ("REPLICATE_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "datarobot": ("DATAROBOT_API_TOKEN",),
    "vertex_ai": ("VERTEXAI_PROJECT", "VERTEXAI_LOCATION"),
    "huggingface": ("HUGGINGFACE_API_KEY",),
    "ai21": ("AI21_API_KEY",),
    "ai21_chat": ("AI21_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY",),
    "aleph_alpha": ("ALEPH_ALPHA_API_KEY",),
    "baseten": ("BASETEN_API_KEY",),
    "nlp_cloud": ("NLP_CLOUD_API_KEY",),
    "bedrock": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "sagemaker": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "ollama": ("OLLAMA_API_BASE",),
    "ollama_chat": ("OLLAMA_API_BASE",),
    "anyscale": ("ANYSCALE_API_KEY",),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "featherless_ai": ("FEATHERLESS_AI_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "nvidia_nim": ("NVIDIA_NIM_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "volcengine": ("VOLCENGINE_API_KEY",),
    "codestral": ("CODESTRAL_API_KEY",),
    "text-completion-codestral": ("CODESTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "palm": ("PALM_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY",),
    "voyage": ("VOYAGE_API_KEY",),
    "infinity": ("INFINITY_API_KEY",),
    "novita": ("NOVITA_API_KEY",),
    "nebius": ("NEBIUS_API_KEY",),
    "dashscope": ("DASHSCOPE_API_KEY",),
    "moonshot": ("MOONSHOT_API_KEY",),
}
_ENV_ANY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gemini": (("GOOGLE_API_KEY", "GEMINI_API_KEY"), ("GOOGLE_API_KEY", "GEMINI_API_KEY")),
    "fireworks_ai": (
        ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY", "FIREWORKSAI_API_KEY", "FIREWORKS_AI_TOKEN"),
        ("FIREWORKS_AI_API_KEY",),
    ),
}


def validate_environment(model: str | None = None, api_key: str | None = None, api_base: str | None = None) -> dict:
    """Whether the environment holds what ``model``'s provider needs, in LiteLLM's shape:
    ``{"keys_in_environment": bool, "missing_keys": [...]}``.

    ``validate_environment("gpt-4o")`` without ``OPENAI_API_KEY`` gives
    ``{"keys_in_environment": False, "missing_keys": ["OPENAI_API_KEY"]}``. A given
    ``api_key`` (``api_base``) drops the ``*_API_KEY`` (``*_API_BASE``) names from the
    missing list. A provider with nothing to check, or a model whose provider cannot be
    determined, reports no missing key; ``model=None`` reports ``False`` and ``[]``.
    """
    if model is None:
        return {"keys_in_environment": False, "missing_keys": []}
    try:
        provider = _core.get_llm_provider(model, None, None)[1]
    except _core.RustLLMError:
        provider = None
    keys_in_environment = False
    missing: list[str] = []
    env = os.environ
    if provider in _ENV_ALL:
        names = _ENV_ALL[provider]
        if all(name in env for name in names):
            keys_in_environment = True
        else:
            missing.extend(names)
    elif provider in _ENV_ANY:
        accepted, reported = _ENV_ANY[provider]
        if any(name in env for name in accepted):
            keys_in_environment = True
        else:
            missing.extend(reported)
    if api_key is not None:
        missing = [k for k in missing if "api_key" not in k.lower()]
    if api_base is not None:
        missing = [k for k in missing if "api_base" not in k.lower()]
    if not missing:
        keys_in_environment = True
    return {"keys_in_environment": keys_in_environment, "missing_keys": missing}
