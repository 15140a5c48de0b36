"""``POST /v1/images/generations`` (and ``/images/generations``) on a real ``rustllm
proxy`` in front of MockServer, with the openai SDK's ``client.images.generate`` as the
client: what reached the mock, what the client got, and the proxy's auth, limits, spend
log and metrics for the route."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}


def _config(server, db) -> str:
    return (
        "model_list:\n"
        + mock_deployment("painter", server, model="openai/dall-e-3")
        + "    model_info: {id: painter-1}\n"
        + "  - model_name: azure-painter\n"
        + "    litellm_params:\n"
        + "      model: azure/my-dalle\n"
        + f"      api_base: {server.url}\n"
        + "      api_key: az-upstream-secret\n"
        + "      api_version: '2024-02-01'\n"
        + "  - model_name: imagen\n"
        + "    litellm_params:\n"
        + "      model: gemini/imagen-3.0-generate-001\n"
        + f"      api_base: {server.url}/v1beta\n"
        + "      api_key: g-upstream-secret\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
    )


@pytest.fixture(scope="module")
def proxy(_module_server, tmp_path_factory):
    db = tmp_path_factory.mktemp("images") / "spend.db"
    with ProxyProcess(_config(_module_server, db)) as p:
        yield p


def client(proxy, key=MASTER):
    return openai.OpenAI(api_key=key, base_url=proxy.url, max_retries=0, timeout=30)


def until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_images_generate_with_the_openai_sdk(proxy, server):
    r = client(proxy).images.generate(model="painter", prompt="a red fox", n=2, size="1024x1792", quality="hd")
    assert len(r.data) == 2
    assert r.data[0].url.startswith("https://images.mock.invalid/")
    assert r.data[0].revised_prompt == "A picture: a red fox"
    sent = server.last_request
    assert sent.path == "/v1/images/generations"
    assert sent.body == {"model": "dall-e-3", "prompt": "a red fox", "n": 2, "size": "1024x1792", "quality": "hd"}
    # The deployment's key went upstream, never the proxy key.
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"


def test_both_paths_and_the_cost_header(proxy, server):
    for path in ("/images/generations", "/v1/images/generations"):
        r = httpx.post(f"{proxy.url}{path}", json={"model": "painter", "prompt": "x"}, headers=AUTH, timeout=20)
        assert r.status_code == 200, r.text
        assert r.headers["x-litellm-model-id"] == "painter-1"
        # openai's standard 1024x1024 dall-e-3 price per pixel, one image.
        assert float(r.headers["x-litellm-response-cost"]) == pytest.approx(1024 * 1024 * 3.81469e-08)


def test_an_imagen_deployment_answers_in_base64_with_the_openai_sdk(proxy, server):
    r = client(proxy).images.generate(model="imagen", prompt="a red fox", n=2, size="1024x1792")
    assert len(r.data) == 2 and r.data[0].b64_json.startswith("iVBOR") and r.data[0].url is None
    sent = server.last_request
    assert sent.path == "/v1beta/models/imagen-3.0-generate-001:predict"
    assert sent.body == {
        "instances": [{"prompt": "a red fox"}],
        "parameters": {"sampleCount": 2, "aspectRatio": "9:16"},
    }
    assert sent.headers["x-goog-api-key"] == "g-upstream-secret"
    # A size Imagen cannot serve is refused by the proxy before any request.
    before = server.request_count
    with pytest.raises(openai.BadRequestError, match="no Imagen aspect ratio"):
        client(proxy).images.generate(model="imagen", prompt="x", size="1000x300")
    assert server.request_count == before


def test_azure_deployment(proxy, server):
    r = client(proxy).images.generate(model="azure-painter", prompt="a boat", response_format="b64_json")
    assert r.data[0].b64_json
    sent = server.last_request
    assert sent.path == "/openai/deployments/my-dalle/images/generations"
    assert sent.query == "api-version=2024-02-01"
    assert sent.headers["api-key"] == "az-upstream-secret"
    assert sent.body == {"model": "my-dalle", "prompt": "a boat", "response_format": "b64_json"}


def test_errors(proxy, server):
    with pytest.raises(openai.AuthenticationError):
        client(proxy, key="sk-bad").images.generate(model="painter", prompt="x")
    with pytest.raises(openai.BadRequestError, match="prompt must not be empty"):
        client(proxy).images.generate(model="painter", prompt="")
    server.fail_next(1, status=429)
    with pytest.raises(openai.RateLimitError):
        client(proxy).images.generate(model="painter", prompt="x")
    with pytest.raises((openai.BadRequestError, openai.NotFoundError)):
        client(proxy).images.generate(model="no-such-group", prompt="x")


def test_limits_spend_and_metrics(proxy, server):
    r = httpx.post(f"{proxy.url}/key/generate", json={"key_alias": "painter-key", "rpm_limit": 1}, headers=AUTH)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    client(proxy, key).images.generate(model="painter", prompt="a hill")
    with pytest.raises(openai.RateLimitError):
        client(proxy, key).images.generate(model="painter", prompt="a hill")
    hashed = hashlib.sha256(key.encode()).hexdigest()

    def key_rows():
        rows = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10).json()
        return [row for row in rows if row.get("api_key") == hashed] or None

    (row,) = until(key_rows)
    assert (row["call_type"], row["model_group"], row["model_id"]) == ("aimage_generation", "painter", "painter-1")
    assert row["spend"] == pytest.approx(1024 * 1024 * 3.81469e-08)
    text = until(
        lambda: (
            (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text)
            and 'route="/images/generations"' in t
            and t
        )
    )
    assert "sk-upstream-secret" not in text and key not in text
