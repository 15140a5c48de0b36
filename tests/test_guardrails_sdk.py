"""Guardrails in the SDK: LiteLLM's CustomGuardrail hooks (pre_call, during_call,
post_call, the streaming iterator hook) on completion/acompletion, text_completion,
embedding and the Router; per-call selection and default_on; rustllm's built-in
guardrail (Rust detectors: block, mask and restore, log, route); the audit trail.

What went over the wire is read from MockServer's recorded requests: a refused call sends
nothing, a masked value never reaches the provider."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import USER_HI

import rustllm as litellm
from rustllm import Router
from rustllm.exceptions import BlockedPiiEntityError, GuardrailRaisedException
from rustllm.guardrails import Guardrail, load
from rustllm.integrations.custom_guardrail import CustomGuardrail
from rustllm.integrations.custom_logger import CustomLogger
from rustllm.testing import MockServer
from rustllm.types.guardrails import GuardrailEventHooks

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
WITH_EMAIL = [{"role": "user", "content": f"Write to {EMAIL} please"}]


def sent_messages(server, i=-1):
    return server.requests[i].body["messages"]


def wire_text(server) -> str:
    return " ".join(str(r.body) for r in server.requests)


# -- custom guardrails used below ----------------------------------------------------------
class Rewrite(CustomGuardrail):
    """pre_call: replaces every user message's content."""

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        self.seen = call_type
        for m in data["messages"]:
            m["content"] = "rewritten"
        return data


class Refuse(CustomGuardrail):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        raise ValueError("refused by policy")


class RefuseWithText(CustomGuardrail):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        return "not allowed here"


class Moderate(CustomGuardrail):
    """during_call: refuses after `delay` seconds when the prompt says 'bad'."""

    def __init__(self, delay=0.05, **kwargs):
        self.delay = delay
        self.calls = 0
        super().__init__(**kwargs)

    async def async_moderation_hook(self, data, user_api_key_dict, call_type):
        self.calls += 1
        await asyncio.sleep(self.delay)
        if "bad" in str(data["messages"]):
            raise ValueError("moderation refused")


class PostEdit(CustomGuardrail):
    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        response.choices[0].message.content = "edited: " + response.choices[0].message.content
        return response


class PostRefuse(CustomGuardrail):
    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        raise ValueError("reply refused")


class Upper(CustomGuardrail):
    """The streaming iterator hook: every chunk's text upper-cased."""

    async def async_post_call_streaming_iterator_hook(self, user_api_key_dict, response, request_data):
        async for chunk in response:
            for c in chunk.choices:
                if c.delta.content:
                    c.delta.content = c.delta.content.upper()
            yield chunk


class Recorder(CustomLogger):
    def __init__(self):
        super().__init__()
        self.kwargs = []

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.kwargs.append(kwargs)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.kwargs.append(kwargs)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.kwargs.append(kwargs)


def content(resp):
    return resp.choices[0].message.content


def stream_text(stream):
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


async def astream_text(stream):
    return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


# -- the class, as LiteLLM defines it --------------------------------------------------------
def test_should_run_guardrail_follows_litellm():
    on = CustomGuardrail(guardrail_name="on", event_hook="pre_call", default_on=True)
    assert on.should_run_guardrail({}, GuardrailEventHooks.pre_call)
    assert not on.should_run_guardrail({}, GuardrailEventHooks.post_call)
    named = CustomGuardrail(guardrail_name="named", event_hook=["pre_call", "post_call"])
    assert not named.should_run_guardrail({}, GuardrailEventHooks.pre_call)
    asked = {"metadata": {"guardrails": ["named"]}}
    assert named.should_run_guardrail(asked, GuardrailEventHooks.pre_call)
    assert named.should_run_guardrail(asked, GuardrailEventHooks.post_call)
    assert not named.should_run_guardrail(asked, GuardrailEventHooks.during_call)
    # No event_hook: every event of every call, as in LiteLLM.
    assert CustomGuardrail(guardrail_name="any").should_run_guardrail({}, GuardrailEventHooks.during_call)
    # The dynamic-params form of a request names the guardrail too.
    extra = {"metadata": {"guardrails": [{"named": {"extra_body": {"x": 1}}}]}}
    assert named.should_run_guardrail(extra, GuardrailEventHooks.pre_call)
    assert named.get_guardrail_dynamic_request_body_params(extra) == {"x": 1}
    assert isinstance(on, CustomLogger)


def test_bad_guardrail_configuration_is_refused_when_made():
    with pytest.raises(ValueError, match="event_hook='pre-call'"):
        CustomGuardrail(guardrail_name="x", event_hook="pre-call")
    with pytest.raises(ValueError, match="not in the supported event hooks"):
        CustomGuardrail(
            guardrail_name="x", event_hook="post_call", supported_event_hooks=[GuardrailEventHooks.pre_call]
        )
    with pytest.raises(TypeError, match="default_on"):
        CustomGuardrail(guardrail_name="x", default_on="yes")


def test_litellm_import_paths_work_under_the_alias():
    code = """
        import rustllm
        rustllm.install_as_litellm()
        from litellm.integrations.custom_guardrail import CustomGuardrail, log_guardrail_information
        from litellm.types.guardrails import GuardrailEventHooks
        from litellm.proxy._types import UserAPIKeyAuth
        import litellm
        print(CustomGuardrail.__module__, GuardrailEventHooks.pre_call.value, litellm.guardrails.Guardrail.__name__)
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["rustllm.integrations.custom_guardrail", "pre_call", "Guardrail"]


# -- pre_call ----------------------------------------------------------------------------------
def test_pre_call_hook_changes_what_is_sent(openai_args, server):
    g = Rewrite(guardrail_name="rw", event_hook="pre_call", default_on=True)
    litellm.callbacks = [g]
    resp = litellm.completion(model="openai/m", messages=[{"role": "user", "content": "original"}], **openai_args)
    assert resp.choices[0].message.content
    assert sent_messages(server) == [{"role": "user", "content": "rewritten"}]
    assert g.seen == "completion"


async def test_pre_call_hook_on_acompletion(openai_args, server):
    litellm.callbacks = [Rewrite(guardrail_name="rw", event_hook="pre_call", default_on=True)]
    await litellm.acompletion(model="openai/m", messages=[{"role": "user", "content": "original"}], **openai_args)
    assert sent_messages(server) == [{"role": "user", "content": "rewritten"}]


@pytest.mark.parametrize("is_async", [False, True])
def test_a_refusing_pre_call_hook_sends_nothing(openai_args, server, is_async):
    litellm.callbacks = [Refuse(guardrail_name="no", event_hook="pre_call", default_on=True)]
    with pytest.raises(ValueError, match="refused by policy"):
        if is_async:
            asyncio.run(litellm.acompletion(model="openai/m", messages=USER_HI, **openai_args))
        else:
            litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    assert server.request_count == 0


def test_a_string_from_pre_call_is_litellms_rejected_request(openai_args, server):
    litellm.callbacks = [RefuseWithText(guardrail_name="no", event_hook="pre_call", default_on=True)]
    with pytest.raises(litellm.RejectedRequestError, match="not allowed here") as info:
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    assert isinstance(info.value, litellm.BadRequestError) and info.value.status_code == 400
    assert server.request_count == 0


def test_failure_callbacks_see_a_refused_call(openai_args, server):
    rec = Recorder()
    litellm.callbacks = [Refuse(guardrail_name="no", event_hook="pre_call", default_on=True), rec]
    with pytest.raises(ValueError):
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    litellm._hooks.flush()
    assert [type(k["exception"]).__name__ for k in rec.kwargs] == ["ValueError"]
    assert server.request_count == 0


# -- selection ---------------------------------------------------------------------------------
def test_a_guardrail_not_default_on_runs_only_when_named(openai_args, server):
    litellm.callbacks = [Rewrite(guardrail_name="rw", event_hook="pre_call")]
    litellm.completion(model="openai/m", messages=[{"role": "user", "content": "a"}], **openai_args)
    assert sent_messages(server) == [{"role": "user", "content": "a"}]
    litellm.completion(model="openai/m", messages=[{"role": "user", "content": "b"}], guardrails=["rw"], **openai_args)
    assert sent_messages(server) == [{"role": "user", "content": "rewritten"}]
    litellm.completion(
        model="openai/m", messages=[{"role": "user", "content": "c"}], metadata={"guardrails": ["rw"]}, **openai_args
    )
    assert sent_messages(server) == [{"role": "user", "content": "rewritten"}]
    # `guardrails` is never sent to the provider.
    assert all("guardrails" not in r.body for r in server.requests)


def test_an_instance_passed_per_call_runs_without_registration(openai_args, server):
    g = Rewrite(guardrail_name="rw", event_hook="pre_call")
    litellm.completion(model="openai/m", messages=[{"role": "user", "content": "a"}], guardrails=[g], **openai_args)
    assert sent_messages(server) == [{"role": "user", "content": "rewritten"}]
    assert "guardrails" not in server.requests[-1].body


def test_unknown_or_malformed_selection_is_refused_before_any_request(openai_args, server):
    litellm.callbacks = [Rewrite(guardrail_name="rw", event_hook="pre_call")]
    with pytest.raises(ValueError, match=r"guardrails \['nope'\]: no guardrail of that name"):
        litellm.completion(model="openai/m", messages=USER_HI, guardrails=["nope"], **openai_args)
    with pytest.raises(TypeError, match="guardrails= must be a list"):
        litellm.completion(model="openai/m", messages=USER_HI, guardrails="rw", **openai_args)
    with pytest.raises(TypeError, match="neither a guardrail name nor a CustomGuardrail"):
        litellm.completion(model="openai/m", messages=USER_HI, guardrails=[42], **openai_args)
    assert server.request_count == 0


def test_the_callers_metadata_is_not_changed(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="log", default_on=True)]
    metadata = {"guardrails": [], "team": "a"}
    litellm.completion(model="openai/m", messages=WITH_EMAIL, metadata=metadata, **openai_args)
    assert metadata == {"guardrails": [], "team": "a"}


# -- during_call ---------------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", [False, True])
def test_a_refusing_moderation_hook_cancels_the_call(openai_args, server, is_async):
    server.latency = 3.0
    try:
        g = Moderate(guardrail_name="mod", event_hook="during_call", default_on=True)
        litellm.callbacks = [g]
        bad = [{"role": "user", "content": "something bad"}]
        start = time.monotonic()
        with pytest.raises(ValueError, match="moderation refused"):
            if is_async:
                asyncio.run(litellm.acompletion(model="openai/m", messages=bad, **openai_args))
            else:
                litellm.completion(model="openai/m", messages=bad, **openai_args)
        # Refused after ~0.05 s: the 3 s call was not waited for.
        assert time.monotonic() - start < 2.0
        assert g.calls == 1
    finally:
        server.latency = 0.0


def test_moderation_runs_beside_the_call_and_lets_it_through(openai_args, server):
    server.latency = 0.3
    try:
        g = Moderate(delay=0.3, guardrail_name="mod", event_hook="during_call", default_on=True)
        litellm.callbacks = [g]
        start = time.monotonic()
        resp = litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
        elapsed = time.monotonic() - start
        assert content(resp) and g.calls == 1 and server.request_count == 1
        assert elapsed < 0.55  # in parallel: ~0.3 s, not ~0.6 s
    finally:
        server.latency = 0.0


async def test_moderation_in_async_code_calling_sync_completion(openai_args, server):
    # A sync call made while an event loop runs: the hooks run on a helper thread's loop.
    litellm.callbacks = [Moderate(delay=0.0, guardrail_name="mod", event_hook="during_call", default_on=True)]
    with pytest.raises(ValueError, match="moderation refused"):
        litellm.completion(model="openai/m", messages=[{"role": "user", "content": "bad"}], **openai_args)
    assert content(litellm.completion(model="openai/m", messages=USER_HI, **openai_args))


# -- post_call -----------------------------------------------------------------------------------
def test_post_call_hook_edits_the_reply(openai_args, server):
    server.respond(text="hello")
    litellm.callbacks = [PostEdit(guardrail_name="edit", event_hook="post_call", default_on=True)]
    assert content(litellm.completion(model="openai/m", messages=USER_HI, **openai_args)) == "edited: hello"


async def test_post_call_hook_on_acompletion_and_refusal(openai_args, server):
    server.respond(text="hello")
    litellm.callbacks = [PostEdit(guardrail_name="edit", event_hook="post_call", default_on=True)]
    assert content(await litellm.acompletion(model="openai/m", messages=USER_HI, **openai_args)) == "edited: hello"
    litellm.callbacks = [PostRefuse(guardrail_name="no", event_hook="post_call", default_on=True)]
    with pytest.raises(ValueError, match="reply refused"):
        await litellm.acompletion(model="openai/m", messages=USER_HI, **openai_args)


def test_streaming_iterator_hook_transforms_chunks(openai_args, server):
    litellm.callbacks = [Upper(guardrail_name="up", event_hook="post_call", default_on=True)]
    server.respond(text="one two three", stream_chunks=3)
    stream = litellm.completion(model="openai/m", messages=USER_HI, stream=True, **openai_args)
    assert isinstance(stream, litellm.CustomStreamWrapper)
    assert stream_text(stream) == "ONE TWO THREE"


async def test_streaming_iterator_hook_on_async_streams(openai_args, server):
    litellm.callbacks = [Upper(guardrail_name="up", event_hook="post_call", default_on=True)]
    server.respond(text="one two three", stream_chunks=3)
    stream = await litellm.acompletion(model="openai/m", messages=USER_HI, stream=True, **openai_args)
    assert await astream_text(stream) == "ONE TWO THREE"


# -- the built-in guardrail ----------------------------------------------------------------------
def test_builtin_block_sends_nothing(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="cards", detect=["credit_card"], action="block", default_on=True)]
    with pytest.raises(BlockedPiiEntityError) as info:
        litellm.completion(model="openai/m", messages=[{"role": "user", "content": f"card {CARD}"}], **openai_args)
    assert str(info.value) == (
        "Blocked entity detected: CREDIT_CARD by Guardrail: cards. This entity is not allowed to be used in this request."
    )
    assert CARD not in str(info.value)
    assert server.request_count == 0
    # A look-alike (fails Luhn) goes through.
    litellm.completion(
        model="openai/m", messages=[{"role": "user", "content": "order 4111 1111 1111 1112"}], **openai_args
    )
    assert server.request_count == 1


def test_builtin_mask_and_restore(openai_args, server):
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True)
    ]
    server.respond(text="I will write to <EMAIL_1> today.")
    resp = litellm.completion(model="openai/m", messages=WITH_EMAIL, **openai_args)
    assert sent_messages(server) == [{"role": "user", "content": "Write to <EMAIL_1> please"}]
    assert EMAIL not in wire_text(server)
    assert content(resp) == f"I will write to {EMAIL} today."


async def test_builtin_mask_without_restore_keeps_placeholders(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="mask", default_on=True)]
    server.respond(text="to <EMAIL_1>")
    resp = await litellm.acompletion(model="openai/m", messages=WITH_EMAIL, **openai_args)
    assert EMAIL not in wire_text(server)
    assert content(resp) == "to <EMAIL_1>"


@pytest.mark.parametrize("is_async", [False, True])
def test_builtin_restore_on_streams_with_placeholders_split_across_chunks(openai_args, server, is_async):
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email", "phone"], action="mask", restore=True, default_on=True)
    ]
    messages = [{"role": "user", "content": f"mail {EMAIL} or call +44 20 7946 0958"}]
    reply = "Sure: <EMAIL_1> and <PHONE_1>, bye"
    server.respond(text=reply, stream_chunks=len(reply) // 2)  # 2-character chunks
    if is_async:

        async def go():
            s = await litellm.acompletion(model="openai/m", messages=messages, stream=True, **openai_args)
            return await astream_text(s)

        text = asyncio.run(go())
    else:
        text = stream_text(litellm.completion(model="openai/m", messages=messages, stream=True, **openai_args))
    assert text == f"Sure: {EMAIL} and +44 20 7946 0958, bye"
    assert EMAIL not in wire_text(server) and "7946" not in wire_text(server)


def test_callbacks_see_the_masked_call(openai_args, server):
    rec = Recorder()
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True),
        rec,
    ]
    server.respond(text="ok <EMAIL_1>", stream_chunks=2)
    text = stream_text(litellm.completion(model="openai/m", messages=WITH_EMAIL, stream=True, **openai_args))
    assert text == f"ok {EMAIL}"
    litellm._hooks.flush()
    (kwargs,) = rec.kwargs
    assert EMAIL not in str(kwargs["messages"]) and EMAIL not in str(kwargs["complete_streaming_response"])
    info = kwargs["standard_logging_object"]["guardrail_information"]
    assert [(i["guardrail_name"], i["guardrail_action"], i["masked_entity_count"]) for i in info] == [
        ("pii", "mask", {"EMAIL": 1})
    ]


def test_builtin_post_call_checks_the_reply(openai_args, server):
    litellm.callbacks = [
        Guardrail(guardrail_name="out", detect=["credit_card"], action="block", mode="post_call", default_on=True)
    ]
    server.respond(text=f"here: {CARD}")
    with pytest.raises(BlockedPiiEntityError, match="CREDIT_CARD by Guardrail: out"):
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    # The prompt is not checked in post_call mode.
    server.respond(text="fine")
    resp = litellm.completion(model="openai/m", messages=[{"role": "user", "content": CARD}], **openai_args)
    assert content(resp) == "fine"


def test_builtin_post_call_on_a_stream_checks_before_any_chunk(openai_args, server):
    litellm.callbacks = [
        Guardrail(guardrail_name="out", detect=["email"], action="mask", mode="post_call", default_on=True)
    ]
    server.respond(text=f"write to {EMAIL} now", stream_chunks=6)
    assert stream_text(litellm.completion(model="openai/m", messages=USER_HI, stream=True, **openai_args)) == (
        "write to <EMAIL_1> now"
    )
    litellm.callbacks = [
        Guardrail(guardrail_name="out", detect=["email"], action="block", mode="post_call", default_on=True)
    ]
    server.respond(text=f"write to {EMAIL} now", stream_chunks=6)
    stream = litellm.completion(model="openai/m", messages=USER_HI, stream=True, **openai_args)
    with pytest.raises(BlockedPiiEntityError):
        next(stream)


def test_builtin_on_text_completion_and_embedding(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="mask", default_on=True)]
    litellm.text_completion(model="openai/m", prompt=f"mail {EMAIL}", **openai_args)
    litellm.embedding(model="openai/e", input=[f"mail {EMAIL}", "plain"], **openai_args)
    assert server.requests[0].body["prompt"] == "mail <EMAIL_1>"
    assert server.requests[1].body["input"] == ["mail <EMAIL_1>", "plain"]
    assert EMAIL not in wire_text(server)


def test_builtin_masks_tool_arguments_and_results(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="mask", default_on=True)]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": f"find {EMAIL}"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": f'{{"to": "{EMAIL}"}}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": f"sent to {EMAIL}"},
    ]
    litellm.completion(model="openai/m", messages=messages, **openai_args)
    sent = sent_messages(server)
    assert EMAIL not in wire_text(server)
    assert sent[0]["content"][0]["text"] == "find <EMAIL_1>"
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"to": "<EMAIL_1>"}'
    assert sent[2]["content"] == "sent to <EMAIL_1>"
    assert messages[0]["content"][0]["text"] == f"find {EMAIL}"  # the caller's list is untouched


def test_route_action_fails_closed_without_a_router(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="sens", detect=["email"], action="route", default_on=True)]
    with pytest.raises(GuardrailRaisedException, match=r"sensitive data found \(EMAIL\).*direct call is refused"):
        litellm.completion(model="openai/m", messages=WITH_EMAIL, **openai_args)
    assert server.request_count == 0
    # Nothing found: the call goes through.
    litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    assert server.request_count == 1


def test_route_action_tags_router_calls_sensitive():
    with MockServer(text="public") as public, MockServer(text="local") as local:

        def dep(server, order, residency=None):
            params = {"model": "openai/m", "api_base": server.base_url, "api_key": "k", "order": order}
            d = {"model_name": "g", "litellm_params": params}
            if residency:
                d["model_info"] = {"data_residency": residency}
            return d

        # The public deployment first for ordinary calls; only the local one for sensitive ones.
        r = Router(model_list=[dep(public, 1), dep(local, 2, "local")])
        litellm.callbacks = [Guardrail(guardrail_name="sens", detect=["email"], action="route", default_on=True)]
        assert content(r.completion(model="g", messages=WITH_EMAIL)) == "local"
        assert content(r.completion(model="g", messages=USER_HI)) == "public"
        assert local.request_count == 1 and public.request_count == 1
        assert EMAIL not in wire_text(public)


def test_router_runs_guardrails(openai_args, server):
    r = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/m", **openai_args}}])
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True),
        Refuse(guardrail_name="no", event_hook="pre_call"),
    ]
    server.respond(text="to <EMAIL_1>")
    assert content(r.completion(model="g", messages=WITH_EMAIL)) == f"to {EMAIL}"
    assert sent_messages(server) == [{"role": "user", "content": "Write to <EMAIL_1> please"}]
    with pytest.raises(ValueError, match="refused by policy"):
        r.completion(model="g", messages=USER_HI, guardrails=["no"])
    server.respond(text="a <EMAIL_1>", stream_chunks=4)
    assert stream_text(r.completion(model="g", messages=WITH_EMAIL, stream=True)) == f"a {EMAIL}"
    r.embedding(model="g", input=[f"x {EMAIL}"])
    assert server.request_count == 3 and EMAIL not in wire_text(server)


async def test_router_async_and_moderation(openai_args, server):
    r = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/m", **openai_args}}])
    litellm.callbacks = [Moderate(delay=0.0, guardrail_name="mod", event_hook="during_call", default_on=True)]
    with pytest.raises(ValueError, match="moderation refused"):
        await r.acompletion(model="g", messages=[{"role": "user", "content": "bad"}])
    assert content(await r.acompletion(model="g", messages=USER_HI))
    with pytest.raises(ValueError, match="moderation refused"):
        r.completion(model="g", messages=[{"role": "user", "content": "bad"}])


# -- audit ---------------------------------------------------------------------------------------
def test_decisions_are_logged_without_values(openai_args, server, caplog):
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email", "credit_card"], action="mask", default_on=True),
    ]
    with caplog.at_level(logging.INFO, logger="rustllm"):
        litellm.completion(
            model="openai/m",
            messages=[{"role": "user", "content": f"{EMAIL} {EMAIL} {CARD}"}],
            litellm_call_id="call-123",
            **openai_args,
        )
    lines = [r.getMessage() for r in caplog.records if "guardrail" in r.getMessage()]
    assert lines == ["rustllm guardrail pii: mask (EMAIL=2, CREDIT_CARD=1) on call call-123"]
    assert EMAIL not in caplog.text and "4111" not in caplog.text


# -- configuration -------------------------------------------------------------------------------
def test_load_builds_builtin_and_custom_guardrails(openai_args, server):
    guards = load(
        [
            {
                "guardrail_name": "pii",
                "litellm_params": {
                    "guardrail": "presidio",
                    "mode": "pre_call",
                    "default_on": True,
                    "pii_entities_config": {"EMAIL_ADDRESS": "MASK"},
                },
            },
            {"guardrail_name": "up", "litellm_params": {"guardrail": "test_guardrails_sdk.Upper", "mode": "post_call"}},
        ]
    )
    assert [type(g).__name__ for g in guards] == ["Guardrail", "Upper"]
    assert guards[1].event_hook == "post_call" and guards[1].default_on is False
    litellm.callbacks = guards
    server.respond(text="hey", stream_chunks=1)
    stream = litellm.completion(model="openai/m", messages=WITH_EMAIL, stream=True, guardrails=["up"], **openai_args)
    assert stream_text(stream) == "HEY"
    assert EMAIL not in wire_text(server)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"litellm_params": {"guardrail": "rustllm"}}, r"guardrails\[0\]: guardrail_name"),
        ({"guardrail_name": "g"}, "guardrail 'g': litellm_params: expected a mapping"),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "detect": ["dna"]}},
            'guardrail "g": detect: unknown detector "dna"',
        ),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "detect": ["email"], "action": "drop"}},
            'guardrail "g": action',
        ),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "detect": ["email"], "mode": "later"}},
            "mode 'later'",
        ),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "patterns": {"X": "("}}},
            'guardrail "g": patterns',
        ),
        ({"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm"}}, "nothing to detect"),
        ({"guardrail_name": "g", "litellm_params": {"guardrail": "no_such_module.G"}}, "cannot import"),
        ({"guardrail_name": "g", "litellm_params": {"guardrail": "lakera"}}, "expected 'rustllm'"),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "detect": ["email"], "default_on": "y"}},
            "default_on",
        ),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "detect": ["email"], "detct": ["x"]}},
            "guardrail 'g': unknown setting",
        ),
        (
            {"guardrail_name": "g", "litellm_params": {"guardrail": "rustllm", "detect": ["email"], "restore": "yes"}},
            'guardrail "g": restore',
        ),
    ],
)
def test_bad_config_entries_are_refused_naming_the_field(entry, message):
    with pytest.raises(ValueError, match=message):
        load([entry])


# Every model call type with text in it, as (call, the request text's place on the wire).
OTHER_CALLS = {
    "responses": (
        lambda text, kw: litellm.responses(model="openai/gpt-4o", input=text, **kw),
        lambda body: body["input"],
    ),
    "bridged responses": (
        lambda text, kw: litellm.responses(model="groq/llama-3.1-8b-instant", input=text, **kw),
        lambda body: body["messages"][-1]["content"],
    ),
    "anthropic_messages": (
        lambda text, kw: litellm.anthropic_messages(
            model="anthropic/claude-3-5-haiku-20241022",
            messages=[{"role": "user", "content": text}],
            max_tokens=9,
            **kw,
        ),
        lambda body: body["messages"][0]["content"],
    ),
    "image_generation": (
        lambda text, kw: litellm.image_generation(model="openai/dall-e-3", prompt=text, **kw),
        lambda body: body["prompt"],
    ),
    "image_edit": (
        lambda text, kw: litellm.image_edit(model="openai/dall-e-2", image=("a.png", PNG), prompt=text, **kw),
        lambda body: body["prompt"],
    ),
    "transcription": (
        lambda text, kw: litellm.transcription(model="openai/whisper-1", file=("a.wav", b"abc"), prompt=text, **kw),
        lambda body: body["prompt"],
    ),
    "speech": (
        lambda text, kw: litellm.speech(model="openai/tts-1", input=text, voice="alloy", **kw),
        lambda body: body["input"],
    ),
    "rerank": (
        lambda text, kw: litellm.rerank(
            model="jina_ai/jina-reranker-v2-base-multilingual", query=text, documents=["a", text], **kw
        ),
        lambda body: body["query"],
    ),
    "moderation": (
        lambda text, kw: litellm.moderation(model="openai/omni-moderation-latest", input=text, **kw),
        lambda body: body["input"],
    ),
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.mark.parametrize("name", list(OTHER_CALLS))
def test_guardrails_run_on_every_model_call_type(openai_args, server, name):
    """A block sends nothing; a mask sends the placeholder, whatever the call type."""
    call, sent_text = OTHER_CALLS[name]
    kw = {**openai_args, "api_base": server.url}
    litellm.callbacks = [
        Guardrail(guardrail_name="cards", detect=["credit_card"], action="block", default_on=True),
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", default_on=True),
    ]
    with pytest.raises(BlockedPiiEntityError, match="Guardrail: cards"):
        call(f"card {CARD}", kw)
    assert server.request_count == 0
    call(f"write to {EMAIL}", kw)
    assert sent_text(server.last_request.body) == "write to <EMAIL_1>"
    assert EMAIL not in wire_text(server)


def test_replies_of_other_call_types_are_checked_and_restored(openai_args, server):
    kw = {**openai_args, "api_base": server.url}
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True),
        Guardrail(guardrail_name="leaks", detect=["credit_card"], action="block", mode="post_call", default_on=True),
    ]
    server.respond(text="I wrote to <EMAIL_1>.")
    r = litellm.responses(model="openai/gpt-4o", input=f"write to {EMAIL}", **kw)
    assert server.last_request.body["input"] == "write to <EMAIL_1>"
    assert r.output_text == f"I wrote to {EMAIL}." and r._hidden_params["custom_llm_provider"] == "openai"
    server.respond(text="I wrote to <EMAIL_1>.")
    m = litellm.anthropic_messages(
        model="anthropic/claude-x", messages=[{"role": "user", "content": f"to {EMAIL}"}], max_tokens=9, **kw
    )
    assert m["content"][0]["text"] == f"I wrote to {EMAIL}."
    assert m._hidden_params["custom_llm_provider"] == "anthropic"
    # The transcript is the model's reply (the mock's repeats the prompt).
    t = litellm.transcription(model="openai/whisper-1", file=("a.wav", b"abc"), prompt=f"for {EMAIL}", **kw)
    assert t.text == f"MOCKTRANSCRIPT:a.wav:3::for {EMAIL}"
    server.respond(text=f"card {CARD}")
    with pytest.raises(BlockedPiiEntityError, match="Guardrail: leaks"):
        litellm.responses(model="openai/gpt-4o", input="hi", **kw)


def test_streams_of_other_call_types_get_pre_call_guardrails_only(openai_args, server):
    kw = {**openai_args, "api_base": server.url}
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="mask", default_on=True)]
    events = list(litellm.responses(model="openai/gpt-4o", input=f"to {EMAIL}", stream=True, **kw))
    assert server.last_request.body["input"] == "to <EMAIL_1>"
    assert events[-1].type == "response.completed"
    # What would check or restore the reply cannot read this stream: refused, not skipped.
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True)
    ]
    before = server.request_count
    with pytest.raises(ValueError, match=r"guardrails \['pii'\] check or restore the reply"):
        litellm.responses(model="openai/gpt-4o", input=f"to {EMAIL}", stream=True, **kw)
    assert server.request_count == before


class ModerateInput(CustomGuardrail):
    """A during_call guardrail for calls whose text is ``input``."""

    async def async_moderation_hook(self, data, user_api_key_dict, call_type):
        if "bad" in str(data.get("input")):
            raise ValueError(f"moderation refused a {call_type} call")


@pytest.mark.parametrize("is_async", [False, True])
def test_class_hooks_run_on_other_call_types(openai_args, server, is_async):
    """A class's moderation hook beside a Responses call, sync (on its async twin) and
    async, told LiteLLM's call type."""
    kw = {**openai_args, "api_base": server.url}
    litellm.callbacks = [ModerateInput(guardrail_name="mod", event_hook="during_call", default_on=True)]

    def call(text):
        if is_async:
            return asyncio.run(litellm.aresponses(model="openai/gpt-4o", input=text, **kw))
        return litellm.responses(model="openai/gpt-4o", input=text, **kw)

    assert call("fine").output_text == server.default_text
    with pytest.raises(ValueError, match="moderation refused a responses call"):
        call("bad")


def test_guardrails_on_files_fail_closed(openai_args, server):
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="mask", default_on=True)]
    with pytest.raises(ValueError, match="not on create_file"):
        litellm.create_file(file=("a.jsonl", b"{}"), purpose="batch", custom_llm_provider="openai", **openai_args)
    assert server.request_count == 0


def test_a_guardrail_that_does_nothing_keeps_the_plain_path(openai_args, server):
    rec = Recorder()
    litellm.callbacks = [CustomGuardrail(guardrail_name="noop", event_hook="pre_call", default_on=True)]
    obs = litellm._hooks.observers({})
    assert obs.guardrails == [] and not obs.any and obs.guardrail_names == {"noop"}
    assert content(litellm.completion(model="openai/m", messages=USER_HI, guardrails=["noop"], **openai_args))
    assert rec.kwargs == []


async def test_builtin_hooks_called_directly_mask_and_restore():
    g = Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True)
    data = {"model": "m", "messages": [{"role": "user", "content": f"to {EMAIL}"}]}
    out = await g.async_pre_call_hook(None, None, data, "completion")
    assert out["messages"] == [{"role": "user", "content": "to <EMAIL_1>"}]
    reply = litellm.ModelResponse(choices=[{"message": {"role": "assistant", "content": "ok <EMAIL_1>"}}])
    restored = await g.async_post_call_success_hook(data, None, reply)
    assert content(restored) == f"ok {EMAIL}"
    assert content(reply) == "ok <EMAIL_1>"  # a new object; the model's reply is kept as it was


def test_cache_stores_the_masked_reply_and_a_hit_is_restored(openai_args, server):
    litellm.cache = litellm.Cache()
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True)
    ]
    server.respond(text="to <EMAIL_1>")
    first = litellm.completion(model="openai/m", messages=WITH_EMAIL, **openai_args)
    second = litellm.completion(model="openai/m", messages=WITH_EMAIL, **openai_args)
    assert content(first) == content(second) == f"to {EMAIL}"
    assert server.request_count == 1 and second._hidden_params.get("cache_hit") is True
    stored = litellm.cache._get(
        litellm.cache._plan("completion", {"model": "openai/m", "messages": sent_messages(server)})
    )
    assert stored is not None and EMAIL not in str(stored)


async def test_log_guardrail_information_records_a_custom_hook(openai_args, server):
    from rustllm.integrations.custom_guardrail import log_guardrail_information

    class Checked(CustomGuardrail):
        @log_guardrail_information
        async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
            return data

    rec = Recorder()
    litellm.callbacks = [Checked(guardrail_name="chk", event_hook="pre_call", default_on=True), rec]
    await litellm.acompletion(model="openai/m", messages=USER_HI, **openai_args)
    assert await asyncio.wait_for(_until(lambda: rec.kwargs), 5)
    (info,) = rec.kwargs[0]["standard_logging_object"]["guardrail_information"]
    assert (info["guardrail_name"], info["guardrail_status"], info["guardrail_mode"]) == ("chk", "success", "pre_call")
    assert info["guardrail_response"] is None and info["duration"] >= 0


async def _until(predicate):
    while not predicate():
        await asyncio.sleep(0.01)
    return True


def test_user_api_key_auth_never_shows_its_key():
    from rustllm.proxy._types import UserAPIKeyAuth

    auth = UserAPIKeyAuth(api_key="sk-secret-value", user_id="u1")
    assert "sk-secret-value" not in repr(auth) and auth.user_id == "u1"


def test_builtin_restore_on_text_completion_streams(openai_args, server):
    litellm.callbacks = [
        Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True)
    ]
    server.respond(text="to <EMAIL_1> ok", stream_chunks=8)
    stream = litellm.text_completion(model="openai/m", prompt=f"mail {EMAIL}", stream=True, **openai_args)
    assert "".join(c.choices[0].text or "" for c in stream if c.choices) == f"to {EMAIL} ok"
    assert EMAIL not in wire_text(server)


def test_a_guardrail_not_selected_does_not_touch_other_calls(openai_args, server):
    # Registered but not default_on and not named: an image call is not refused for it.
    litellm.callbacks = [Guardrail(guardrail_name="pii", detect=["email"], action="mask")]
    litellm.image_generation(model="openai/dall-e-3", prompt="a cat", **openai_args)
    assert server.request_count == 1


def test_router_retries_and_fallbacks_send_only_masked_text():
    with MockServer(text="a") as first, MockServer(text="ok <EMAIL_1>") as second:
        r = Router(
            model_list=[
                {
                    "model_name": "g",
                    "litellm_params": {"model": "openai/m", "api_base": first.base_url, "api_key": "k"},
                },
                {
                    "model_name": "fb",
                    "litellm_params": {"model": "openai/m", "api_base": second.base_url, "api_key": "k"},
                },
            ],
            fallbacks=[{"g": ["fb"]}],
            num_retries=1,
        )
        litellm.callbacks = [
            Guardrail(guardrail_name="pii", detect=["email"], action="mask", restore=True, default_on=True)
        ]
        first.fail_next(5, status=500)
        assert content(r.completion(model="g", messages=WITH_EMAIL)) == f"ok {EMAIL}"
        assert first.request_count >= 2 and second.request_count == 1
        assert EMAIL not in wire_text(first) and EMAIL not in wire_text(second)


def test_a_guardrail_written_against_litellm_runs_under_the_alias():
    code = """
        import rustllm
        rustllm.install_as_litellm()
        import litellm
        from litellm.integrations.custom_guardrail import CustomGuardrail
        from rustllm.testing import MockServer

        class Block(CustomGuardrail):
            async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
                raise ValueError("blocked")

        litellm.callbacks = [Block(guardrail_name="b", event_hook="pre_call", default_on=True)]
        with MockServer() as s:
            try:
                litellm.completion(model="openai/m", messages=[{"role": "user", "content": "hi"}],
                                   api_base=s.base_url, api_key="k")
            except ValueError as e:
                print(e, s.request_count)
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["blocked", "0"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("system", f"mail {EMAIL}"),
        ("instructions", f"mail {EMAIL}"),
        ("messages", [{"role": "user", "content": f"mail {EMAIL}"}]),
        ("prompt", f"mail {EMAIL}"),
        ("input", [f"mail {EMAIL}"]),
        ("query", f"mail {EMAIL}"),
        ("documents", ["plain", {"text": f"mail {EMAIL}"}]),
    ],
)
def test_every_text_field_of_a_call_is_read(field, value):
    # The check reads a call's arguments by name (the Rust side looks each name up): a
    # name missing from its list would let that field through unchecked.
    g = Guardrail(guardrail_name="no-mail", detect=["email"], action="block")
    with pytest.raises(BlockedPiiEntityError, match="EMAIL"):
        asyncio.run(g.async_pre_call_hook(None, None, {"model": "m", field: value}, "completion"))
    asyncio.run(g.async_pre_call_hook(None, None, {"model": "m", "other": f"mail {EMAIL}"}, "completion"))


def test_request_only_builtins_run_inside_the_call_when_nothing_observes_it(server, openai_args, monkeypatch):
    # Built-in guardrails that only check the request, registered with nothing that
    # observes the call, run inside the Rust call (no Python hook path around them):
    # the same on the wire, the same errors, for completion and acompletion, streamed
    # or not, and the marker handing them over is never sent.
    from rustllm import _hooks

    def hook_path(*args, **kwargs):
        raise AssertionError("the call took the Python hook path")

    monkeypatch.setattr(_hooks, "call", hook_path)
    monkeypatch.setattr(_hooks, "acall", hook_path)
    litellm.callbacks = [
        Guardrail(guardrail_name="mask-mail", detect=["email"], action="mask", default_on=True),
        Guardrail(guardrail_name="no-cards", detect=["credit_card"], action="block", default_on=True),
        CustomGuardrail(guardrail_name="idle", default_on=True),  # no hook: changes nothing
    ]
    litellm.completion(model="openai/gpt-4o", messages=WITH_EMAIL, **openai_args)
    asyncio.run(litellm.acompletion(model="openai/gpt-4o", messages=WITH_EMAIL, **openai_args))
    list(litellm.completion(model="openai/gpt-4o", messages=WITH_EMAIL, stream=True, **openai_args))

    async def astream():
        return [
            c
            async for c in await litellm.acompletion(
                model="openai/gpt-4o", messages=WITH_EMAIL, stream=True, **openai_args
            )
        ]

    asyncio.run(astream())
    assert len(server.requests) == 4
    for r in server.requests:
        assert r.body["messages"] == [{"role": "user", "content": "Write to <EMAIL_1> please"}]
        assert "_rustllm_guardrails" not in r.body
    card = [{"role": "user", "content": f"charge {CARD}"}]
    with pytest.raises(BlockedPiiEntityError) as e:
        litellm.completion(model="openai/gpt-4o", messages=card, **openai_args)
    assert e.value.guardrail_name == "no-cards" and "CREDIT_CARD" in str(e.value)
    with pytest.raises(BlockedPiiEntityError):
        asyncio.run(litellm.acompletion(model="openai/gpt-4o", messages=card, **openai_args))
    with pytest.raises(BlockedPiiEntityError):
        litellm.completion(model="openai/gpt-4o", messages=card, stream=True, **openai_args)
    assert len(server.requests) == 4  # nothing sent for a blocked call


def test_builtins_keep_the_hook_path_when_something_reads_their_decisions(server, openai_args, caplog):
    # A decision logged at INFO, a call naming guardrails, a restoring guardrail: the
    # Python path, which logs, checks the names and restores.
    litellm.callbacks = [Guardrail(guardrail_name="log-mail", detect=["email"], action="log", default_on=True)]
    with caplog.at_level(logging.INFO, logger="rustllm"):
        litellm.completion(model="openai/gpt-4o", messages=WITH_EMAIL, **openai_args)
    assert "rustllm guardrail log-mail: log (EMAIL=1)" in caplog.text
    assert EMAIL not in caplog.text
    with pytest.raises(ValueError, match="no guardrail of that name"):
        litellm.completion(model="openai/gpt-4o", messages=WITH_EMAIL, metadata={"guardrails": ["nope"]}, **openai_args)
    litellm.callbacks = [
        Guardrail(guardrail_name="mask-mail", detect=["email"], action="mask", restore=True, default_on=True)
    ]
    server.respond(text="I wrote to <EMAIL_1>")
    r = litellm.completion(model="openai/gpt-4o", messages=WITH_EMAIL, **openai_args)
    assert r.choices[0].message.content == f"I wrote to {EMAIL}"
    assert sent_messages(server)[0]["content"] == "Write to <EMAIL_1> please"


def test_router_chat_calls_run_request_only_builtins_inside_the_call(server, openai_args, monkeypatch):
    # The Router's completion and acompletion take the same inline path as
    # rustllm.completion (the hook path made to fail): masked on the wire, a block raised
    # before anything is sent.
    from rustllm import _hooks

    def hook_path(*args, **kwargs):
        raise AssertionError("the call took the Python hook path")

    monkeypatch.setattr(_hooks, "observers", hook_path)
    litellm.callbacks = [
        Guardrail(guardrail_name="mask-mail", detect=["email"], action="mask", default_on=True),
        Guardrail(guardrail_name="no-cards", detect=["credit_card"], action="block", default_on=True),
    ]
    r = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/m", **openai_args}}])
    r.completion(model="g", messages=WITH_EMAIL)
    asyncio.run(r.acompletion(model="g", messages=WITH_EMAIL))
    list(r.completion(model="g", messages=WITH_EMAIL, stream=True))
    assert server.request_count == 3
    for req in server.requests:
        assert req.body["messages"] == [{"role": "user", "content": "Write to <EMAIL_1> please"}]
        assert "_rustllm_guardrails" not in req.body
    card = [{"role": "user", "content": f"charge {CARD}"}]
    with pytest.raises(BlockedPiiEntityError, match="CREDIT_CARD"):
        r.completion(model="g", messages=card)
    with pytest.raises(BlockedPiiEntityError):
        asyncio.run(r.acompletion(model="g", messages=card))
    assert server.request_count == 3
