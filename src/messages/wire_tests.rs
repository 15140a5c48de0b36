//! Messages calls as `call` prepares and runs them: which provider gets Anthropic's body
//! as it is, which gets chat, and what a mocked call answers.

use serde_json::{json, Value};

use crate::call;
use crate::providers::Endpointkind;
use crate::test_support::obj;

fn prepare(kwargs: Value) -> call::Prepared {
    call::prepare_with_env(Endpointkind::AnthropicMessages, obj(kwargs), &|_| None).unwrap()
}

fn request() -> Value {
    json!({
        "max_tokens": 32,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}],
        "system": "Be brief.",
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "top_k": 4,
    })
}

fn with(model: &str, extra: Value) -> Value {
    let mut v = request();
    v["model"] = json!(model);
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}

#[test]
fn anthropic_gets_the_body_as_it_is() {
    let p = prepare(with(
        "anthropic/claude-3-5-haiku-20241022",
        json!({"api_key": "sk-ant", "api_base": "http://127.0.0.1:9"}),
    ));
    assert_eq!(p.url, "http://127.0.0.1:9/v1/messages");
    assert!(p.headers.contains(&("x-api-key".into(), "sk-ant".into())));
    assert!(p
        .headers
        .contains(&("anthropic-version".into(), "2023-06-01".into())));
    let mut expected = request();
    expected["model"] = json!("claude-3-5-haiku-20241022");
    assert_eq!(Value::Object(p.body), expected);
    assert!(p.messages_bridge.is_none());
}

#[test]
fn vertex_claude_gets_the_body_on_raw_predict() {
    let p = prepare(with(
        "vertex_ai/claude-3-5-sonnet@20240620",
        json!({"api_key": "ya29.token", "vertex_project": "proj", "vertex_location": "us-east5"}),
    ));
    assert!(
        p.url.ends_with(
            "/v1/projects/proj/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict"
        ),
        "{}",
        p.url
    );
    assert_eq!(p.body["anthropic_version"], "vertex-2023-10-16");
    assert!(!p.body.contains_key("model"));
    assert_eq!(p.body["top_k"], 4);
    assert_eq!(p.body["thinking"], request()["thinking"]);
    assert!(!p.headers.iter().any(|(k, _)| k == "x-api-key"));
}

#[test]
fn other_providers_get_chat() {
    let p = prepare(with(
        "openai/gpt-4o",
        json!({"api_key": "sk-x", "api_base": "http://127.0.0.1:9/v1"}),
    ));
    assert_eq!(p.url, "http://127.0.0.1:9/v1/chat/completions");
    assert_eq!(
        p.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert!(p.messages_bridge.is_some());
    // gpt-4o is no reasoning model: thinking has nowhere to go.
    assert!(!p.body.contains_key("reasoning_effort"));
    // A reasoning model gets reasoning_effort.
    let p = prepare(with(
        "openai/o3-mini",
        json!({"api_key": "sk-x", "api_base": "http://127.0.0.1:9/v1", "top_k": null}),
    ));
    assert_eq!(p.body["reasoning_effort"], "low");
}

#[test]
fn a_mocked_call_answers_a_message() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let p = prepare(json!({
        "model": "anthropic/claude-3-5-haiku-20241022",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
        "mock_response": "Hello!",
    }));
    let reply = rt.block_on(call::run(p)).unwrap();
    assert_eq!(reply.body["type"], "message");
    assert_eq!(
        reply.body["content"],
        json!([{"type": "text", "text": "Hello!"}])
    );
    assert_eq!(reply.body["stop_reason"], "end_turn");
}

#[test]
fn a_message_counts_its_tokens_for_the_router() {
    use crate::router::Routed;
    let reply = <call::Reply as crate::router::Cacheable>::from_cache(obj(json!({
        "type": "message", "content": [], "usage": {"input_tokens": 7, "output_tokens": 3}
    })));
    assert_eq!(reply.tokens(), (Some(10), Some(3)));
}

/// The events of a stream, read on `rt` (the one runtime of a test: the shared client's
/// pooled connections belong to the runtime that opened them).
fn run_stream(rt: &tokio::runtime::Runtime, kwargs: Value) -> Vec<Value> {
    rt.block_on(async {
        let p = call::prepare(Endpointkind::AnthropicMessages, obj(kwargs))?;
        let mut open = call::run_stream(p).await?;
        let mut out = Vec::new();
        while let Some(batch) = open.chunks.recv().await {
            out.extend(batch?.into_iter().map(|c| Value::Object(c.into_map())));
        }
        Ok::<_, crate::error::LlmError>(out)
    })
    .unwrap()
}

#[test]
fn bedrock_claude_gets_the_body_on_invoke_model_signed() {
    let mock = crate::mock::MockServer::start().unwrap();
    let mut kwargs = with(
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
        json!({"api_base": mock.url(), "aws_access_key_id": "AKIDTEST",
               "aws_secret_access_key": "secret", "aws_region_name": "eu-west-1"}),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = rt
        .block_on(async {
            call::run(call::prepare(
                Endpointkind::AnthropicMessages,
                obj(kwargs.clone()),
            )?)
            .await
        })
        .unwrap();
    let sent = mock.requests().pop().unwrap();
    assert_eq!(
        sent.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke"
    );
    assert!(sent.headers.iter().any(
        |(k, v)| k == "authorization" && v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    ));
    let mut expected = request();
    expected["anthropic_version"] = json!("bedrock-2023-05-31");
    assert_eq!(sent.body, expected);
    assert_eq!(reply.body["type"], "message");
    assert_eq!(reply.body["content"][0]["type"], "text");

    kwargs["stream"] = json!(true);
    let events = run_stream(&rt, kwargs);
    let sent = mock.requests().pop().unwrap();
    assert!(
        sent.path.ends_with("/invoke-with-response-stream"),
        "{}",
        sent.path
    );
    assert!(!sent.body.as_object().unwrap().contains_key("stream"));
    assert_eq!(events[0]["type"], "message_start");
    assert_eq!(events.last().unwrap()["type"], "message_stop");
    // LiteLLM's `converse/` route stays on Converse, translated.
    let p = prepare(with(
        "bedrock/converse/anthropic.claude-3-5-sonnet-20240620-v1:0",
        json!({"aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "s", "aws_region_name": "eu-west-1"}),
    ));
    assert!(p.url.ends_with("/converse"), "{}", p.url);
    assert!(p.messages_bridge.is_some());
}
