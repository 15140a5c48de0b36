"""image_generation / aimage_generation through the public API, against MockServer: what
went over the wire (path, query, body, headers) and what came back (ImageResponse, its
cost), for OpenAI and Azure, with callbacks, retries, errors and the Router."""

from __future__ import annotations

import asyncio
import pickle
import time

import pytest

import rustllm as litellm
from rustllm import ImageObject, ImageResponse


def test_openai_dall_e_3_goes_to_images_generations_and_is_priced(server, openai_args):
    resp = litellm.image_generation(
        prompt="a red fox", model="dall-e-3", n=2, size="1024x1792", quality="hd", style="vivid", **openai_args
    )
    req = server.last_request
    assert req.path == "/v1/images/generations"
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.body == {
        "model": "dall-e-3",
        "prompt": "a red fox",
        "n": 2,
        "quality": "hd",
        "size": "1024x1792",
        "style": "vivid",
    }
    assert isinstance(resp, ImageResponse)
    assert len(resp.data) == 2 and all(isinstance(x, ImageObject) for x in resp.data)
    assert resp.data[0].url.endswith("-0.png") and resp.data[1]["url"].endswith("-1.png")
    assert resp.data[0].revised_prompt == "A picture: a red fox"
    assert resp.data[0].b64_json is None
    assert isinstance(resp.created, int)
    # The size and quality asked for are kept (dall-e replies leave them out): the cost
    # is the catalogue's hd 1024x1792 price per pixel, for two images.
    assert (resp.size, resp.quality) == ("1024x1792", "hd")
    assert resp._hidden_params["response_cost"] == pytest.approx(2 * 6.539e-08 * 1024 * 1792)
    assert resp._hidden_params["custom_llm_provider"] == "openai"
    assert resp.model_dump()["data"][0]["revised_prompt"] == "A picture: a red fox"
    assert pickle.loads(pickle.dumps(resp)) == resp
    assert litellm.completion_cost(completion_response=resp) == pytest.approx(2 * 6.539e-08 * 1024 * 1792)
    # size=, quality= and n= reprice it: one hd 1024x1024 image.
    assert litellm.completion_cost(completion_response=resp, size="1024x1024", n=1) == pytest.approx(
        7.629e-08 * 1024 * 1024
    )


def test_default_model_and_b64_json(server, openai_args):
    resp = litellm.image_generation("a cat", response_format="b64_json", **openai_args)
    assert server.last_request.body == {"model": "dall-e-2", "prompt": "a cat", "response_format": "b64_json"}
    assert resp.data[0].b64_json.startswith("iVBOR") and resp.data[0].url is None
    # dall-e-2 at LiteLLM's default size (1024x1024), priced per pixel.
    assert resp._hidden_params["response_cost"] == pytest.approx(1.9e-08 * 1024 * 1024)


def test_gpt_image_is_priced_by_its_token_usage(server, openai_args):
    resp = litellm.image_generation(prompt="three word prompt", model="gpt-image-1", quality="low", **openai_args)
    assert resp.usage["output_tokens"] == 272
    assert resp.quality == "low"
    assert resp._hidden_params["response_cost"] == pytest.approx(3 * 5e-06 + 272 * 4e-05)


def test_azure_deployment_url_api_version_and_key_header(server):
    resp = litellm.image_generation(
        prompt="a boat",
        model="azure/dall-e-3",
        api_base=server.url,
        api_key="az-key",
        api_version="2024-02-01",
        max_retries=0,
    )
    req = server.last_request
    assert req.path == "/openai/deployments/dall-e-3/images/generations"
    assert req.query == "api-version=2024-02-01"
    assert req.headers["api-key"] == "az-key"
    assert req.body == {"model": "dall-e-3", "prompt": "a boat"}
    # Azure's standard 1024x1024 dall-e-3 price per pixel.
    assert resp._hidden_params["response_cost"] == pytest.approx(4.19617e-08 * 1024 * 1024)


async def test_aimage_generation(server, openai_args):
    resp = await litellm.aimage_generation(prompt="a tree", model="dall-e-3", **openai_args)
    assert server.last_request.path == "/v1/images/generations"
    assert server.last_request.body["prompt"] == "a tree"
    assert isinstance(resp, ImageResponse) and resp.data[0].url


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prompt": ""}, "prompt must not be empty"),
        ({"prompt": 3}, "prompt must be a string"),
        ({"prompt": "x", "n": 0}, "n must be an int of at least 1"),
        ({"prompt": "x", "size": "large"}, "size must be"),
        ({"prompt": "x", "response_format": "png"}, "response_format must be"),
    ],
)
def test_bad_inputs_fail_before_any_request(server, openai_args, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.image_generation(model="dall-e-3", **kwargs, **openai_args)
    assert server.requests == []


def test_unserved_provider_and_missing_key(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(litellm.BadRequestError, match="image generation for OpenAI-format providers and Azure"):
        litellm.image_generation(prompt="x", model="anthropic/claude-x", api_key="k", api_base=server.url)
    with pytest.raises(litellm.AuthenticationError, match="OPENAI_API_KEY"):
        litellm.image_generation(prompt="x", model="dall-e-3", api_base=server.base_url)
    assert server.requests == []


def test_errors_are_mapped_and_retried(server, openai_args):
    server.fail_next(1, status=429)
    with pytest.raises(litellm.RateLimitError):
        litellm.image_generation(prompt="x", model="dall-e-3", **openai_args)
    server.reset()
    server.fail_next(1, status=503)
    resp = litellm.image_generation(prompt="x", model="dall-e-3", **{**openai_args, "max_retries": 1})
    assert server.request_count == 2
    assert len(resp.data) == 1


def test_callbacks_see_the_call(server, openai_args, monkeypatch):
    seen = []
    monkeypatch.setattr(
        litellm,
        "success_callback",
        [lambda kwargs, resp, *_: seen.append((kwargs["call_type"], resp, kwargs["input"]))],
    )
    litellm.image_generation(prompt="x", model="dall-e-3", **openai_args)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:  # success callbacks run on a worker
        time.sleep(0.01)
    assert [(c, i) for c, _, i in seen] == [("image_generation", "x")]
    assert isinstance(seen[0][1], ImageResponse)


def test_mock_response_is_the_reply(server):
    resp = litellm.image_generation(
        prompt="x", model="dall-e-3", mock_response={"created": 1, "data": [{"url": "https://x/y.png"}]}
    )
    assert resp.data[0].url == "https://x/y.png" and resp.created == 1
    assert server.requests == []


def test_router_image_generation_and_aimage_generation(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "painter",
                "litellm_params": {"model": "openai/dall-e-3", "api_base": server.base_url, "api_key": "k"},
                "model_info": {"id": "painter-1"},
            }
        ],
        num_retries=1,
    )
    server.fail_next(1, status=500)
    resp = router.image_generation(prompt="a lake", model="painter", size="1792x1024")
    assert server.request_count == 2
    assert server.last_request.body == {"model": "dall-e-3", "prompt": "a lake", "size": "1792x1024"}
    assert resp._hidden_params["model_id"] == "painter-1"
    assert resp.data[0].revised_prompt == "A picture: a lake"

    resp = asyncio.run(router.aimage_generation("a hill", "painter"))
    assert server.last_request.body["prompt"] == "a hill"
    assert isinstance(resp, ImageResponse)
