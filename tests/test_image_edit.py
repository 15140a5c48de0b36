"""image_edit / aimage_edit through the public API, against MockServer: the multipart
request (the image or images whole, the mask, the fields) and the ImageResponse that came
back, for OpenAI and Azure, callbacks, retries, errors and the Router; and
``client.images.edit`` through a real proxy."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from _proxy import ProxyProcess, mock_deployment

import rustllm as litellm
from rustllm import ImageResponse

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
MASK = b"\x89PNG\r\n\x1a\nmask"


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_image_edit_posts_the_images_and_returns_an_image_response(server, openai_args, tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    resp = litellm.image_edit(
        image=path, prompt="add a hat", model="dall-e-2", mask=("mask.png", MASK), n=2, size="1024x1024", **openai_args
    )
    req = server.last_request
    assert req.path == "/v1/images/edits"
    assert req.headers["content-type"].startswith("multipart/form-data")
    image, mask = req.body.pop("image"), req.body.pop("mask")
    assert (image["filename"], image["content_type"], image["sha256"]) == ("cat.png", "image/png", sha(PNG))
    assert (mask["filename"], mask["sha256"]) == ("mask.png", sha(MASK))
    assert req.body == {"model": "dall-e-2", "prompt": "add a hat", "n": "2", "size": "1024x1024"}
    assert isinstance(resp, ImageResponse) and len(resp.data) == 2
    assert resp.data[0].url.startswith("https://images.mock.invalid/")
    # dall-e-2 at 1024x1024 is priced per pixel.
    assert resp._hidden_params["response_cost"] == pytest.approx(2 * 1.9e-08 * 1024 * 1024)


def test_several_images_go_as_image_list(server, openai_args):
    litellm.image_edit(image=[("a.png", PNG), ("b.png", MASK)], prompt="merge", model="gpt-image-1", **openai_args)
    images = server.last_request.body["image"]
    assert [(i["filename"], i["sha256"]) for i in images] == [("a.png", sha(PNG)), ("b.png", sha(MASK))]


async def test_aimage_edit_on_azure(server):
    resp = await litellm.aimage_edit(
        image=("a.png", PNG),
        prompt="p",
        model="azure/my-dalle",
        api_base=server.url,
        api_key="az",
        api_version="2025-04-01-preview",
        max_retries=0,
    )
    req = server.last_request
    assert req.path == "/openai/deployments/my-dalle/images/edits"
    assert req.headers["api-key"] == "az" and req.body["image"]["sha256"] == sha(PNG)
    assert len(resp.data) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image": None, "prompt": "p"}, "image is required"),
        ({"image": [], "prompt": "p"}, "must not be an empty list"),
        ({"image": 7, "prompt": "p"}, "must be a file"),
        ({"image": PNG, "prompt": ""}, "prompt must not be empty"),
        ({"image": PNG, "prompt": "p", "n": 0}, "n must be"),
        ({"image": PNG, "prompt": "p", "size": "big"}, "size must be"),
        ({"image": PNG, "prompt": "p", "response_format": "gif"}, "response_format"),
        ({"image": PNG, "prompt": "p", "model": "anthropic/claude-x"}, "OpenAI-format providers"),
    ],
)
def test_bad_inputs_fail_before_any_request(server, openai_args, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.image_edit(**{"model": "dall-e-2", **openai_args, **kwargs})
    assert server.requests == []


def test_retries_resend_the_image_and_the_router_routes_it(server, openai_args):
    server.fail_next(1, status=503)
    litellm.image_edit(image=("a.png", PNG), prompt="p", **{**openai_args, "max_retries": 1})
    assert [r.body["image"]["sha256"] for r in server.requests] == [sha(PNG)] * 2
    server.reset()
    router = litellm.Router(
        model_list=[
            {
                "model_name": "editor",
                "litellm_params": {"model": "openai/dall-e-2", "api_base": server.base_url, "api_key": "k"},
                "model_info": {"id": "editor-1"},
            }
        ]
    )
    resp = router.image_edit(model="editor", image=("a.png", PNG), prompt="routed")
    assert server.last_request.body["prompt"] == "routed" and server.last_request.body["model"] == "dall-e-2"
    assert resp._hidden_params["model_id"] == "editor-1"
    resp = asyncio.run(router.aimage_edit(model="editor", image=("a.png", PNG), prompt="async"))
    assert len(resp.data) == 1


def test_client_images_edit_through_the_proxy(_module_server, server, tmp_path):
    openai = pytest.importorskip("openai")
    config = (
        "model_list:\n"
        + mock_deployment("editor", _module_server, model="openai/dall-e-2")
        + "router_settings:\n  num_retries: 0\n"
        + "general_settings:\n  master_key: sk-1234\n  database: none\n"
    )
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    with ProxyProcess(config) as proxy:
        client = openai.OpenAI(api_key="sk-1234", base_url=proxy.url, max_retries=0, timeout=30)
        with open(path, "rb") as f:
            r = client.images.edit(model="editor", image=f, prompt="a hat", n=1, size="512x512")
        assert r.data[0].url.startswith("https://images.mock.invalid/")
        sent = server.last_request
        assert sent.path == "/v1/images/edits"
        assert sent.body["image"]["sha256"] == sha(PNG) and sent.body["prompt"] == "a hat"
        assert sent.body["model"] == "dall-e-2"
        with pytest.raises(openai.BadRequestError, match="prompt"):
            client.images.edit(model="editor", image=("a.png", PNG), prompt="")
