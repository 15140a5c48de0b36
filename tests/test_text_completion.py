"""``text_completion`` / ``atext_completion``: the OpenAI completions format on the wire,
``TextCompletionResponse`` back; chat models through the chat endpoint; streams."""

from __future__ import annotations

import pytest

import rustllm as litellm
from rustllm import TextCompletionResponse
from rustllm.types.utils import TextChoices


def test_completions_body_and_response(openai_args, server):
    resp = litellm.text_completion(
        model="openai/gpt-3.5-turbo-instruct",
        prompt="Say this is a test",
        max_tokens=7,
        temperature=0.0,
        echo=False,
        suffix="!",
        best_of=1,
        logprobs=None,
        **openai_args,
    )
    req = server.last_request
    assert req.path == "/v1/completions"
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.body == {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": "Say this is a test",
        "max_tokens": 7,
        "temperature": 0.0,
        "echo": False,
        "suffix": "!",
        "best_of": 1,
    }
    assert isinstance(resp, TextCompletionResponse)
    assert resp.object == "text_completion"
    assert resp.id.startswith("cmpl-mock-")
    assert resp.model == "gpt-3.5-turbo-instruct"
    assert isinstance(resp.choices[0], TextChoices)
    assert resp.choices[0].text == "Hello from MockServer!"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.prompt_tokens == 5 and resp.usage.completion_tokens == 3
    # As in LiteLLM, an OpenAI completions model is served as text-completion-openai.
    assert resp._hidden_params["custom_llm_provider"] == "text-completion-openai"
    assert resp._hidden_params["response_cost"] == pytest.approx(5 * 1.5e-06 + 3 * 2e-06)


def test_prompt_lists_token_prompts_and_n(openai_args, server):
    resp = litellm.text_completion(model="openai/my-model", prompt=["one", "two"], n=2, **openai_args)
    assert server.last_request.body["prompt"] == ["one", "two"]
    assert [c.index for c in resp.choices] == [0, 1]
    litellm.text_completion(model="openai/my-model", prompt=[[1, 2, 3]], **openai_args)
    assert server.last_request.body["prompt"] == [[1, 2, 3]]
    # text-completion-openai/ always means /completions.
    litellm.text_completion(model="text-completion-openai/gpt-4o", prompt="x", **openai_args)
    assert server.last_request.path == "/v1/completions"


def test_a_chat_model_goes_through_the_chat_endpoint(openai_args, server):
    resp = litellm.text_completion(model="openai/gpt-4o", prompt="hi there", max_tokens=50, **openai_args)
    req = server.last_request
    assert req.path == "/v1/chat/completions"
    assert req.body["messages"] == [{"role": "user", "content": "hi there"}]
    assert req.body["max_tokens"] == 50
    assert isinstance(resp, TextCompletionResponse)
    assert resp.object == "text_completion"
    assert resp.choices[0].text == "Hello from MockServer!"
    # Several prompts: one chat call each, choices in prompt order, usage summed.
    resp = litellm.text_completion(
        model="anthropic/echo-claude", prompt=["first", "second"], api_base=server.url, api_key="k"
    )
    assert [c.text for c in resp.choices] == ["first", "second"]
    assert [c.index for c in resp.choices] == [0, 1]
    assert resp.usage.prompt_tokens == 2


def test_streaming(openai_args, server):
    chunks = list(litellm.text_completion(model="openai/my-model", prompt="hi", stream=True, **openai_args))
    assert server.last_request.body["stream"] is True
    assert all(isinstance(c, TextCompletionResponse) for c in chunks)
    assert "".join(c.choices[0].text for c in chunks) == "Hello from MockServer!"
    assert chunks[-1].choices[0].finish_reason == "stop"
    # A chat model's stream comes back as text chunks too.
    chunks = list(litellm.text_completion(model="openai/gpt-4o", prompt="hi", stream=True, **openai_args))
    assert server.last_request.path == "/v1/chat/completions"
    assert "".join(c.choices[0].text for c in chunks) == "Hello from MockServer!"


async def test_async_calls_and_streams(openai_args, server):
    resp = await litellm.atext_completion(model="openai/my-model", prompt="hi", **openai_args)
    assert resp.choices[0].text == "Hello from MockServer!"
    assert server.last_request.path == "/v1/completions"
    text = ""
    async for chunk in await litellm.atext_completion(model="openai/my-model", prompt="hi", stream=True, **openai_args):
        text += chunk.choices[0].text
    assert text == "Hello from MockServer!"
    resp = await litellm.atext_completion(
        model="anthropic/echo-claude", prompt=["a", "b"], api_base=server.url, api_key="k"
    )
    assert [c.text for c in resp.choices] == ["a", "b"]


def test_errors_mocks_and_anthropic(openai_args, server):
    with pytest.raises(litellm.RateLimitError):
        litellm.text_completion(model="openai/error-429", prompt="x", **openai_args)
    with pytest.raises(ValueError, match="model param"):
        litellm.text_completion(prompt="x")
    mocked = litellm.text_completion(model="openai/my-model", prompt="x", mock_response="mocked!")
    assert mocked.choices[0].text == "mocked!" and mocked.object == "text_completion"
    # A provider without a completions endpoint gets the prompt as a chat message.
    resp = litellm.text_completion(
        model="anthropic/claude-3-5-sonnet-20240620", prompt="hi", api_base=server.url, api_key="k"
    )
    assert server.last_request.path == "/v1/messages"
    assert resp.choices[0].text == "Hello from MockServer!"
