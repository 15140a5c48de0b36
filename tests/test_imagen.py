"""image_generation with Google's Imagen models (`gemini/imagen-*`, `vertex_ai/imagen-*`)
through the public API against MockServer: the `predict` request that went over the wire
(path, key or token, body), the ImageResponse that came back and its cost, and what is
refused before any request."""

from __future__ import annotations

import pytest

import rustllm as litellm
from rustllm import ImageResponse


@pytest.fixture
def gemini_args(server):
    return {"api_base": server.url + "/v1beta", "api_key": "g-test-key", "max_retries": 0}


def test_gemini_imagen_is_a_predict_call_answered_in_base64_and_priced(server, gemini_args):
    resp = litellm.image_generation(
        prompt="a red fox", model="gemini/imagen-3.0-generate-001", n=2, size="1792x1024", seed=7, **gemini_args
    )
    req = server.last_request
    assert req.path == "/v1beta/models/imagen-3.0-generate-001:predict"
    assert req.headers["x-goog-api-key"] == "g-test-key"
    assert req.body == {
        "instances": [{"prompt": "a red fox"}],
        "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "seed": 7},
    }
    assert isinstance(resp, ImageResponse)
    assert len(resp.data) == 2
    assert resp.data[0].b64_json.startswith("iVBOR") and resp.data[0].url is None
    assert resp._hidden_params["custom_llm_provider"] == "gemini"
    # The catalogue prices imagen-3.0-generate-001 per image.
    assert resp._hidden_params["response_cost"] == pytest.approx(2 * 0.04)


async def test_aimage_generation_on_vertex_imagen_uses_the_vertex_url_and_token(server):
    resp = await litellm.aimage_generation(
        prompt="a boat",
        model="vertex_ai/imagen-3.0-generate-002",
        api_base=server.url,
        api_key="ya29.given",
        vertex_project="p1",
        vertex_location="europe-west4",
        size="768x1024",
        max_retries=0,
    )
    req = server.last_request
    assert req.path == "/v1/projects/p1/locations/europe-west4/publishers/google/models/imagen-3.0-generate-002:predict"
    assert req.headers["authorization"] == "Bearer ya29.given"
    assert req.body == {"instances": [{"prompt": "a boat"}], "parameters": {"aspectRatio": "3:4"}}
    assert len(resp.data) == 1 and resp.data[0].b64_json
    assert resp._hidden_params["custom_llm_provider"] == "vertex_ai"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"size": "1000x300"}, "has no Imagen aspect ratio"),
        ({"response_format": "url"}, "Imagen returns images as base64"),
        ({"quality": "hd"}, "drop_params=True"),
    ],
)
def test_what_imagen_cannot_do_fails_before_any_request(server, gemini_args, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.image_generation(prompt="x", model="gemini/imagen-3.0-generate-002", **kwargs, **gemini_args)
    assert server.requests == []


def test_drop_params_drops_openai_only_parameters(server, gemini_args):
    litellm.image_generation(
        prompt="x", model="gemini/imagen-3.0-generate-002", quality="hd", style="vivid", drop_params=True, **gemini_args
    )
    assert server.last_request.body == {"instances": [{"prompt": "x"}], "parameters": {}}


def test_a_gemini_model_that_is_not_imagen_is_refused(server, gemini_args):
    with pytest.raises(litellm.BadRequestError, match="for Imagen models"):
        litellm.image_generation(prompt="x", model="gemini/gemini-2.0-flash", **gemini_args)
    assert server.requests == []


def test_every_image_filtered_is_a_content_policy_error(server, gemini_args):
    server.respond(body={"predictions": [{"raiFilteredReason": "filtered: unsafe content"}]})
    with pytest.raises(litellm.ContentPolicyViolationError, match="every image was filtered: filtered: unsafe content"):
        litellm.image_generation(prompt="x", model="gemini/imagen-3.0-generate-002", **gemini_args)


def test_google_errors_are_mapped(server, gemini_args):
    with pytest.raises(litellm.RateLimitError):
        litellm.image_generation(prompt="x", model="gemini/imagen-error-429", **gemini_args)
