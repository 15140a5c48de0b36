"""The helpers LiteLLM users call around their calls: health_check / ahealth_check,
check_valid_key, get_valid_models, trim_messages and BudgetManager."""

from __future__ import annotations

import json

import pytest

import rustllm as litellm
from rustllm import BudgetManager

# -- health_check --------------------------------------------------------------------------


def test_health_check_makes_one_cheap_call_and_reports_rate_limit_headers(server, openai_args):
    server.respond(headers={"x-ratelimit-remaining-requests": "99", "x-ratelimit-remaining-tokens": "5000"})
    params = {"model": "openai/gpt-4o-mini", **openai_args}
    result = litellm.health_check(params)
    assert result == {"x-ratelimit-remaining-requests": "99", "x-ratelimit-remaining-tokens": "5000"}
    assert server.request_count == 1
    body = server.last_request.body
    assert body["messages"] == [{"role": "user", "content": "test from litellm"}]
    assert body["max_tokens"] == 1
    assert params == {"model": "openai/gpt-4o-mini", **openai_args}  # the caller's dict is untouched


@pytest.mark.parametrize(
    ("mode", "path", "field", "value"),
    [
        ("embedding", "/v1/embeddings", "input", ["test from litellm"]),
        ("completion", "/v1/completions", "prompt", "test from litellm"),
        ("rerank", "/v1/rerank", "documents", ["my sample text"]),
        ("moderation", "/v1/moderations", "input", "test from litellm"),
    ],
)
async def test_ahealth_check_modes(server, openai_args, mode, path, field, value):
    model = "text-completion-openai/my-instruct" if mode == "completion" else "openai/m"
    assert await litellm.ahealth_check({"model": model, **openai_args}, mode=mode) == {}
    assert server.last_request.path == path
    assert server.last_request.body[field] == value


def test_health_check_reports_errors_without_the_key(server, openai_args):
    result = litellm.health_check({"model": "openai/error-401", **openai_args}, mode="chat")
    assert set(result) == {"error"}
    assert "AuthenticationError" in result["error"] and "Have you set 'mode'" in result["error"]
    assert openai_args["api_key"] not in result["error"]
    missing = litellm.health_check({"model": "openai/x", "api_key": "sk-secret-1", "api_base": "http://127.0.0.1:1"})
    assert "Missing `mode`" in missing["error"] and "sk-secret-1" not in missing["error"]
    assert "not supported" in litellm.health_check({"model": "openai/x"}, mode="video")["error"]
    assert litellm.health_check({}, mode="chat")["error"].startswith("model not set")


# -- check_valid_key / get_valid_models ----------------------------------------------------


def test_check_valid_key(server):
    assert litellm.check_valid_key(model="openai/gpt-4o-mini", api_key="sk-good") is False  # no api_base: refused
    litellm.api_base = server.base_url
    try:
        assert litellm.check_valid_key(model="openai/gpt-4o-mini", api_key="sk-good") is True
        assert server.last_request.headers["authorization"] == "Bearer sk-good"
        assert server.last_request.body["max_tokens"] == 10
        server.fail_next(3, status=401)
        assert litellm.check_valid_key(model="openai/gpt-4o-mini", api_key="sk-bad") is False
    finally:
        litellm.api_base = None


def test_get_valid_models_follows_the_environment(server, monkeypatch):
    assert litellm.get_valid_models() == []
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    models = litellm.get_valid_models()
    assert models and all(litellm.model_cost[m]["litellm_provider"] == "anthropic" for m in models)
    monkeypatch.setenv("TOGETHERAI_API_KEY", "k")  # LiteLLM's spelling without underscores
    assert any(litellm.model_cost[m]["litellm_provider"] == "together_ai" for m in litellm.get_valid_models())
    monkeypatch.setenv("AZURE_API_KEY", "k")
    assert "Azure-LLM" in litellm.get_valid_models()
    only = litellm.get_valid_models(custom_llm_provider="groq")
    assert only and all(litellm.model_cost[m]["litellm_provider"] == "groq" for m in only)


def test_get_valid_models_can_ask_the_provider(server):
    listed = litellm.get_valid_models(
        check_provider_endpoint=True, custom_llm_provider="openai", api_key="sk-x", api_base=server.base_url
    )
    assert server.last_request.path == "/v1/models"
    assert server.last_request.headers["authorization"] == "Bearer sk-x"
    assert listed and all(m.startswith("openai/") for m in listed)


# -- trim_messages -------------------------------------------------------------------------


def _long(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def test_trim_messages_keeps_short_conversations_and_unknown_models():
    msgs = [{"role": "user", "content": "hi"}]
    assert litellm.trim_messages(msgs, model="gpt-4o") == msgs
    assert litellm.trim_messages([{"role": "user", "content": _long(500)}], model="no-such-model-x") == [
        {"role": "user", "content": _long(500)}
    ]


def test_trim_messages_keeps_the_system_message_and_drops_the_oldest():
    msgs = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": _long(300)},
        {"role": "assistant", "content": _long(300)},
        {"role": "user", "content": "the latest question"},
    ]
    original = json.dumps(msgs)
    trimmed = litellm.trim_messages(msgs, model="gpt-4o", max_tokens=400)
    assert json.dumps(msgs) == original  # the caller's list is unchanged
    assert trimmed[0] == {"role": "system", "content": "be brief"}
    assert trimmed[-1] == {"role": "user", "content": "the latest question"}
    assert litellm.token_counter(model="gpt-4o", messages=trimmed) <= 400
    # The oldest user message could not stay; the assistant's was cut in the middle.
    assert [m["role"] for m in trimmed] == ["system", "assistant", "user"]
    assert ".." in trimmed[1]["content"]
    assert trimmed[1]["content"].startswith("word0") and trimmed[1]["content"].endswith("word299")


def test_trim_messages_ratio_of_the_context_window_and_response_tokens():
    window = litellm.get_model_info("gpt-4")["max_input_tokens"]
    msgs = [{"role": "user", "content": _long(window)}]
    trimmed, left = litellm.trim_messages(msgs, model="gpt-4", return_response_tokens=True)
    used = litellm.token_counter(model="gpt-4", messages=trimmed)
    assert used <= int(window * 0.75)
    assert left == int(window * 0.75) - used


def test_trim_messages_keeps_trailing_tool_results_whole():
    tool = {"role": "tool", "tool_call_id": "c1", "content": _long(50)}
    msgs = [{"role": "user", "content": _long(400)}, tool]
    trimmed = litellm.trim_messages(msgs, model="gpt-4o", max_tokens=120)
    assert trimmed[-1] == tool
    assert trimmed[0]["role"] == "user" and len(trimmed[0]["content"]) < len(msgs[0]["content"])


def test_trim_messages_with_only_a_huge_system_message():
    msgs = [{"role": "system", "content": _long(1000)}, {"role": "user", "content": "hi"}]
    trimmed = litellm.trim_messages(msgs, model="claude-3-5-sonnet-20240620", max_tokens=50)
    assert len(trimmed) == 1 and trimmed[0]["role"] == "system"
    assert litellm.token_counter(model="claude-3-5-sonnet-20240620", messages=trimmed) <= 50


# -- BudgetManager -------------------------------------------------------------------------


def test_budget_manager_as_the_tutorial_uses_it(server, openai_args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bm = BudgetManager(project_name="test_project")
    user = "1234"
    assert not bm.is_valid_user(user)
    assert bm.create_budget(total_budget=10, user=user) == {"total_budget": 10}
    assert bm.is_valid_user(user) and bm.get_users() == [user]
    assert bm.get_current_cost(user=user) == 0 and bm.get_model_cost(user) == 0
    response = litellm.completion(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], **openai_args
    )
    spent = litellm.completion_cost(completion_response=response)
    assert spent > 0
    assert bm.update_cost(completion_obj=response, user=user)["user"]["current_cost"] == pytest.approx(spent)
    assert bm.get_model_cost(user) == {response.model: pytest.approx(spent)}
    assert bm.get_total_budget(user) == 10
    msgs = [{"role": "user", "content": "how are you"}]
    prompt_cost, _ = litellm.cost_per_token(
        model="gpt-4o-mini", prompt_tokens=litellm.token_counter(model="gpt-4o-mini", text="how are you")
    )
    assert bm.projected_cost(model="gpt-4o-mini", messages=msgs, user=user) == pytest.approx(spent + prompt_cost)
    # Kept in ./user_cost.json, which a new manager reads back.
    saved = json.loads((tmp_path / "user_cost.json").read_text())
    assert saved[user]["current_cost"] == pytest.approx(spent)
    assert BudgetManager(project_name="again").get_current_cost(user) == pytest.approx(spent)
    bm.reset_cost(user)
    assert bm.get_current_cost(user) == 0
    assert json.loads((tmp_path / "user_cost.json").read_text())[user]["current_cost"] == 0


def test_budget_manager_text_costs_durations_and_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bm = BudgetManager(project_name="p")
    entry = bm.create_budget(total_budget=1.0, user="u", duration="weekly", created_at=100.0)
    assert entry == {"total_budget": 1.0, "duration": 7, "created_at": 100.0, "last_updated_at": 100.0}
    bm.update_cost(user="u", model="gpt-4o-mini", input_text="hello there", output_text="hi")
    assert bm.get_current_cost("u") > 0
    bm.update_budget_all_users()  # created long ago: the week has passed
    assert bm.get_current_cost("u") == 0 and bm.user_dict["u"]["last_updated_at"] > 100.0
    fresh = bm.create_budget(total_budget=1.0, user="v", duration="daily")
    assert fresh["created_at"] == pytest.approx(__import__("time").time(), abs=5)
    with pytest.raises(ValueError, match="duration needs to be one of"):
        bm.create_budget(total_budget=1.0, user="w", duration="hourly")
    with pytest.raises(ValueError, match="Either a chat completion object"):
        bm.update_cost(user="u")
    with pytest.raises(KeyError):
        bm.get_current_cost("nobody")
    with pytest.raises(ValueError, match="only 'local'"):
        BudgetManager(project_name="p", client_type="hosted")
