"""LiteLLM public names that LiteLLM's own unit tests import and rustllm lacked
(bench/litellm-public-tests.md, (b) and (c)): each works, not only imports.

GenericLiteLLMParams, InMemoryCache, CallTypes, AZURE_DEFAULT_API_VERSION, the
cost_calculator module, Embedding, HiddenParams, ServerToolUse, TranscriptionResponse,
stream_chunk_builder_text_completion; and the behaviour gaps: thinking_blocks kept by
stream_chunk_builder, litellm_debug_info on mapped errors, top_logprobs validated.
"""

from __future__ import annotations

from rustllm.types.router import GenericLiteLLMParams, LiteLLM_Params

USER_HI = [{"role": "user", "content": "hi"}]


# -- GenericLiteLLMParams ------------------------------------------------------------------
def test_generic_litellm_params_fields_extras_and_subclass():
    params = GenericLiteLLMParams(api_key="k", max_retries="3", drop_params=True)
    assert params.api_key == "k" and params["max_retries"] == 3 and params.api_base is None
    assert params.drop_params is True and params.get("drop_params") is True  # an extra, as given
    assert "api_key" in params and "model" not in params
    assert "model" not in GenericLiteLLMParams.model_fields
    assert issubclass(LiteLLM_Params, GenericLiteLLMParams)
    assert list(LiteLLM_Params.model_fields) == [*GenericLiteLLMParams.model_fields, "model"]
    dumped = params.model_dump()
    assert list(dumped)[:7] == [
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "output_cost_per_second",
        "input_cost_per_pixel",
        "output_cost_per_pixel",
        "api_key",
    ]
    assert list(dumped)[-1] == "drop_params"
    assert LiteLLM_Params(model="gpt-4o", max_retries="2").max_retries == 2
