"""``ModelInfo``: what ``get_model_info`` returns, as a ``TypedDict`` (LiteLLM's name).

Kept out of ``rustllm.types.utils`` because building a ``TypedDict`` this size costs about
3 ms (``typing`` compiles each annotation), which ``import rustllm`` must not pay: that
module imports this one on first use of the name. Type checkers read it directly.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["ModelInfo"]


class _ModelInfoKeys(TypedDict):
    """The keys every ``get_model_info`` answer has (``src/catalogue/models.rs``:
    ``model_info``): None where the catalogue entry does not say."""

    key: str
    max_tokens: int | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    # 0 for a model the catalogue lists without prices, as in LiteLLM.
    input_cost_per_token: float
    output_cost_per_token: float
    cache_creation_input_token_cost: float | None
    cache_read_input_token_cost: float | None
    input_cost_per_second: float | None
    output_cost_per_second: float | None
    output_cost_per_reasoning_token: float | None
    # None only for a model registered without a provider whose name names none.
    litellm_provider: str | None
    mode: str | None
    supported_openai_params: list[str] | None
    # Every supports_* flag any catalogue entry states is reported (these are LiteLLM's);
    # None when this model's entry is silent.
    supports_system_messages: bool | None
    supports_response_schema: bool | None
    supports_vision: bool | None
    supports_function_calling: bool | None
    supports_tool_choice: bool | None
    supports_assistant_prefill: bool | None
    supports_prompt_caching: bool | None
    supports_computer_use: bool | None
    supports_audio_input: bool | None
    supports_embedding_image_input: bool | None
    supports_audio_output: bool | None
    supports_pdf_input: bool | None
    supports_native_streaming: bool | None
    supports_parallel_function_calling: bool | None
    supports_web_search: bool | None
    supports_reasoning: bool | None
    supports_url_context: bool | None


class ModelInfo(_ModelInfoKeys, total=False):
    """A model's catalogue facts, as ``rustllm.get_model_info`` returns them: the keys of
    ``_ModelInfoKeys`` always, plus whatever else the model's entry holds (the keys below
    are LiteLLM's ``ModelInfo`` keys; other keys, such as other ``supports_*`` flags or
    ``deprecation_date``, are read with ``.get``)."""

    cache_creation_input_audio_token_cost: float | None
    input_cost_per_character: float | None
    input_cost_per_audio_token: float | None
    input_cost_per_token_above_128k_tokens: float | None
    input_cost_per_token_above_200k_tokens: float | None
    input_cost_per_character_above_128k_tokens: float | None
    input_cost_per_query: float | None
    input_cost_per_image: float | None
    input_cost_per_audio_per_second: float | None
    input_cost_per_video_per_second: float | None
    input_cost_per_token_batches: float | None
    output_cost_per_token_batches: float | None
    output_cost_per_character: float | None
    output_cost_per_audio_token: float | None
    output_cost_per_token_above_128k_tokens: float | None
    output_cost_per_token_above_200k_tokens: float | None
    output_cost_per_character_above_128k_tokens: float | None
    output_cost_per_image: float | None
    # float: a few entries write these three as 2048.0 (an int is a float to type checkers).
    output_vector_size: float | None
    tpm: float | None
    rpm: float | None
    output_cost_per_video_per_second: float | None
    output_cost_per_audio_per_second: float | None
    search_context_cost_per_query: dict[str, float] | None
    citation_cost_per_token: float | None
