"""The tutorial's clients against ``rustllm proxy``: its exact curl command, its
JavaScript ``fetch`` body (run with node), rustllm itself as a client, and LangChain's
``ChatOpenAI(base_url=...)``. Each checks what reached the mock and what came back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _proxy import ProxyProcess, mock_deployment

import rustllm


@pytest.fixture(scope="module")
def proxy(_module_server):
    server = _module_server
    config = (
        "model_list:\n"
        + mock_deployment("gpt-4o", server, model="openai/gpt-4o")
        + mock_deployment("embedder", server, model="openai/text-embedding-3-small")
        + "router_settings:\n  model_group_alias: {gpt-4: gpt-4o}\n"
        + "general_settings:\n  master_key: sk-1234\n"
    )
    with ProxyProcess(config) as p:
        yield p


# tutorial.md, "使用 curl 调用", verbatim but for the port.
TUTORIAL_CURL = """curl -X POST 'http://0.0.0.0:4000/chat/completions' \\
-H 'Content-Type: application/json' \\
-H 'Authorization: Bearer sk-1234' \\
-d '{
    "model": "gpt-4o",
    "messages": [
      {
        "role": "system",
        "content": "You are an LLM named gpt-4o"
      },
      {
        "role": "user",
        "content": "what is your name?"
      }
    ]
}'"""


def test_the_tutorials_curl_command(proxy, server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    server.respond(text="I am gpt-4o")
    command = TUTORIAL_CURL.replace("0.0.0.0:4000", f"0.0.0.0:{proxy.port}") + " --silent --show-error --max-time 20"
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert reply["choices"][0]["message"] == {"content": "I am gpt-4o", "role": "assistant"}
    assert reply["object"] == "chat.completion"
    sent = server.last_request
    assert sent.body["model"] == "gpt-4o"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You are an LLM named gpt-4o"},
        {"role": "user", "content": "what is your name?"},
    ]


# tutorial.md, "使用 javascript 调用": the fetch body, with the gateway's address and
# key for this test, and the reply printed so the test can read it.
TUTORIAL_FETCH = """
fetch("%(url)s/completions", {
  method: "POST",
  headers: {
    "Authorization": "Bearer team-123",
    "Content-Type": "application/json"
  },
  body: JSON.stringify({
    model: "gpt-4",
    messages: [{role: "user", content: "Hello"}]
  })
}).then(async (r) => console.log(JSON.stringify({status: r.status, body: await r.json()})))
  .catch((e) => { console.error(e); process.exit(1); });
"""


def _node() -> str:
    node = shutil.which("node") or ("/usr/bin/node" if os.path.exists("/usr/bin/node") else None)
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is required in CI for the tutorial's JavaScript example")
        pytest.skip("node is not installed")
    return node


def test_the_tutorials_javascript_fetch(server):
    node = _node()
    # The tutorial's key is "team-123"; here it is the proxy's master key.
    config = (
        "model_list:\n"
        + mock_deployment("gpt-4o", server)
        + ("router_settings:\n  model_group_alias: {gpt-4: gpt-4o}\ngeneral_settings:\n  master_key: team-123\n")
    )
    server.respond(text="Hello back")
    with ProxyProcess(config) as p:
        out = subprocess.run([node, "-e", TUTORIAL_FETCH % {"url": p.url}], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    # /completions with a chat body is served as chat (rustllm's documented superset).
    assert result["status"] == 200
    assert result["body"]["object"] == "chat.completion"
    assert result["body"]["choices"][0]["message"]["content"] == "Hello back"
    sent = server.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.body["messages"] == [{"role": "user", "content": "Hello"}]
    assert sent.body["model"] == "gpt-4o"


def test_rustllm_as_a_client(proxy, server):
    server.respond(text="via litellm_proxy")
    r = rustllm.completion(
        model="litellm_proxy/gpt-4",
        messages=[{"role": "user", "content": "hi"}],
        api_base=proxy.url,
        api_key="sk-1234",
        max_retries=0,
    )
    assert r.choices[0].message.content == "via litellm_proxy"
    assert server.last_request.body["model"] == "gpt-4o"
    server.respond(text="streamed through")
    chunks = list(
        rustllm.completion(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            api_base=proxy.url,
            api_key="sk-1234",
            stream=True,
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "streamed through"
    assert server.last_request.body["stream"] is True
    e = rustllm.embedding(model="openai/embedder", input=["x"], api_base=proxy.url, api_key="sk-1234")
    assert len(e.data[0]["embedding"]) == 8
    assert server.last_request.body["input"] == ["x"]
    with pytest.raises(rustllm.AuthenticationError):
        rustllm.completion(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            api_base=proxy.url,
            api_key="sk-nope",
            max_retries=0,
        )


def test_langchain_chat_openai(proxy, server):
    langchain_openai = pytest.importorskip("langchain_openai")
    llm = langchain_openai.ChatOpenAI(
        model="gpt-4o", base_url=proxy.url, api_key="sk-1234", max_retries=0, temperature=0.1
    )
    server.respond(text="Hi from LangChain")
    msg = llm.invoke("hello")
    assert msg.content == "Hi from LangChain"
    sent = server.last_request
    assert sent.body["messages"] == [{"role": "user", "content": "hello"}]
    assert sent.body["temperature"] == 0.1
    server.respond(text="s t r e a m")
    text = "".join(chunk.content for chunk in llm.stream("go"))
    assert text == "s t r e a m"
    assert server.last_request.body["stream"] is True


def test_the_proxy_demo_runs_on_the_example_config_with_no_key():
    """`make demo`'s proxy half: examples/proxy/config.yaml serves mock deployments."""
    demo = Path(__file__).parent.parent / "examples" / "proxy" / "demo.py"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    out = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "openai SDK: Hello from rustllm's proxy (mock deployment" in out.stdout
    assert "| usage: 30" in out.stdout
    assert "models: gpt-4o, text-embedding-3-small, gpt-3.5-turbo, gpt-4" in out.stdout
    assert "proxy stopped, exit code 0" in out.stdout
