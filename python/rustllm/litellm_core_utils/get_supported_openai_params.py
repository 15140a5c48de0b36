"""``from litellm.litellm_core_utils.get_supported_openai_params import
get_supported_openai_params`` (the import crewai uses)."""

from rustllm.catalogue import get_supported_openai_params

__all__ = ["get_supported_openai_params"]
