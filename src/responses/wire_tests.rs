//! Responses calls end to end against the mock: what goes over the wire, what comes back.

use serde_json::{json, Value};

use crate::call::{self, Reply};
use crate::mock::MockServer;
use crate::providers::Endpointkind;
use crate::stream::Chunk;
use crate::test_support::obj;

fn run(kwargs: Value) -> Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { call::run(call::prepare(Endpointkind::Responses, obj(kwargs))?).await })
        .unwrap()
}

fn stream(kwargs: Value) -> Vec<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut open =
            call::run_stream(call::prepare(Endpointkind::Responses, obj(kwargs))?).await?;
        let mut out = Vec::new();
        while let Some(batch) = open.chunks.recv().await {
            out.extend(
                batch?
                    .into_iter()
                    .map(|c| Value::Object(Chunk::into_map(c))),
            );
        }
        Ok::<_, crate::error::LlmError>(out)
    })
    .unwrap()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[test]
fn openai_gets_its_own_responses_api() {
    let mock = MockServer::start().unwrap();
    let tools = json!([{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let r = run(json!({
        "model": "openai/gpt-4o", "input": "hi", "instructions": "be brief", "tools": tools,
        "previous_response_id": "resp_earlier", "api_base": mock.base_url(), "api_key": "sk-test",
    }));
    let sent = mock.requests().pop().unwrap();
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/responses")
    );
    assert_eq!(sent.body["input"], json!("hi"));
    assert_eq!(sent.body["instructions"], json!("be brief"));
    assert_eq!(
        sent.body["tools"], tools,
        "tools go flat, as the Responses API takes them"
    );
    assert_eq!(sent.body["previous_response_id"], json!("resp_earlier"));
    assert_eq!(sent.body["model"], json!("gpt-4o"));
    assert_eq!(r.body["object"], json!("response"));
    assert_eq!(r.body["previous_response_id"], json!("resp_earlier"));
    assert!(r.body["usage"]["input_tokens"].as_u64().is_some());
}

#[test]
fn azure_responses_are_not_under_a_deployment() {
    let mock = MockServer::start().unwrap();
    run(json!({"model": "azure/my-gpt", "input": "hi", "api_base": mock.url(), "api_key": "az"}));
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/openai/responses");
    assert_eq!(sent.query, "api-version=2025-03-01-preview");
    assert_eq!(sent.body["model"], json!("my-gpt"));
    assert!(sent.headers.contains(&("api-key".into(), "az".into())));
}

#[test]
fn a_native_stream_passes_the_typed_events_through() {
    let mock = MockServer::start().unwrap();
    let events = stream(
        json!({"model": "openai/gpt-4o", "input": "hi", "stream": true,
        "api_base": mock.base_url(), "api_key": "k"}),
    );
    let t = types(&events);
    assert_eq!(t[0], "response.created");
    assert!(t.contains(&"response.output_text.delta"));
    assert_eq!(*t.last().unwrap(), "response.completed");
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, mock.default_text());
    assert_eq!(mock.requests().pop().unwrap().body["stream"], json!(true));
}

#[test]
fn anthropic_is_bridged_over_its_messages_api() {
    let mock = MockServer::start().unwrap();
    let r = run(
        json!({"model": "anthropic/claude-3-5-sonnet-20241022", "input": "hi",
        "instructions": "be brief", "max_output_tokens": 30, "api_base": mock.url(), "api_key": "ak"}),
    );
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.body["system"][0]["text"], json!("be brief"));
    assert_eq!(sent.body["max_tokens"], json!(30));
    assert_eq!(r.body["object"], json!("response"));
    assert!(r.body["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(
        r.body["output"][0]["content"][0]["text"],
        json!(mock.default_text())
    );
    assert!(r.body["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(
        r.cost(&Default::default()).is_some_and(|c| c > 0.0),
        "priced from the usage"
    );

    // The next turn replays the earlier one.
    run(
        json!({"model": "anthropic/claude-3-5-sonnet-20241022", "input": "and then?",
        "previous_response_id": r.body["id"], "api_base": mock.url(), "api_key": "ak"}),
    );
    let sent = mock.requests().pop().unwrap();
    let roles: Vec<&str> = sent.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
}

#[test]
fn a_bridged_stream_becomes_typed_events_with_a_tool_call() {
    let mock = MockServer::start().unwrap();
    let events = stream(
        json!({"model": "groq/llama-3.1-8b-instant", "input": "weather in Paris?", "stream": true,
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": "required", "api_base": mock.base_url(), "api_key": "gk"}),
    );
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.body["tools"][0]["function"]["name"],
        json!("get_weather")
    );
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
    let t = types(&events);
    assert!(
        t.contains(&"response.function_call_arguments.delta"),
        "{t:?}"
    );
    let done = events
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    let args: Value = serde_json::from_str(done["arguments"].as_str().unwrap()).unwrap();
    assert!(args.get("city").is_some());
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], json!("response.completed"));
    assert!(
        completed["response"]["usage"]["total_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn errors_are_mapped_and_bad_input_never_reaches_the_wire() {
    let mock = MockServer::start().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(async {
            call::run(call::prepare(
                Endpointkind::Responses,
                obj(json!({"model": "openai/error-429", "input": "hi", "api_base": mock.base_url(), "api_key": "k", "num_retries": 0})),
            )?)
            .await
        })
        .err()
        .unwrap();
    assert_eq!(e.kind, crate::error::ErrorKind::RateLimit);
    let before = mock.requests().len();
    for bad in [
        json!({"model": "openai/gpt-4o", "api_base": mock.base_url(), "api_key": "k"}),
        json!({"model": "openai/gpt-4o", "input": 3, "api_base": mock.base_url(), "api_key": "k"}),
        json!({"model": "anthropic/claude-x", "input": "x", "tools": [{"type": "web_search_preview"}], "api_base": mock.url(), "api_key": "k"}),
    ] {
        assert!(call::prepare(Endpointkind::Responses, obj(bad)).is_err());
    }
    assert_eq!(mock.requests().len(), before);
}

fn by_id(kwargs: Value, delete: bool) -> Result<Reply, crate::error::LlmError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(call::response_by_id(obj(kwargs), delete))
}

#[test]
fn stored_responses_are_fetched_and_deleted() {
    let mock = MockServer::start().unwrap();
    let r = run(
        json!({"model": "openai/gpt-4o", "input": "hi", "api_base": mock.base_url(), "api_key": "k"}),
    );
    let id = r.body["id"].clone();
    let got = by_id(
        json!({"response_id": id, "api_base": mock.base_url(), "api_key": "k"}),
        false,
    )
    .unwrap();
    let sent = mock.requests().pop().unwrap();
    assert_eq!(
        (sent.method.as_str(), sent.path.clone()),
        ("GET", format!("/v1/responses/{}", id.as_str().unwrap()))
    );
    assert!(sent
        .headers
        .contains(&("authorization".into(), "Bearer k".into())));
    assert_eq!(got.body["output"], r.body["output"]);
    let gone = by_id(
        json!({"response_id": id, "api_base": mock.base_url(), "api_key": "k"}),
        true,
    )
    .unwrap();
    assert_eq!(gone.body["deleted"], json!(true));
    assert_eq!(mock.requests().pop().unwrap().method, "DELETE");
    let e = by_id(
        json!({"response_id": id, "api_base": mock.base_url(), "api_key": "k", "num_retries": 0}),
        false,
    )
    .err()
    .unwrap();
    assert_eq!(e.kind, crate::error::ErrorKind::NotFound);
    for bad in [
        json!({}),
        json!({"response_id": ""}),
        json!({"response_id": "a/../b"}),
    ] {
        assert_eq!(
            by_id(bad, false).err().unwrap().kind,
            crate::error::ErrorKind::BadRequest
        );
    }
}

#[test]
fn bridged_responses_are_answered_from_the_store() {
    let mock = MockServer::start().unwrap();
    let r = run(
        json!({"model": "anthropic/claude-3-5-sonnet-20241022", "input": "hi", "api_base": mock.url(), "api_key": "ak"}),
    );
    let before = mock.requests().len();
    let got = by_id(json!({"response_id": r.body["id"]}), false).unwrap();
    assert_eq!(got.body, r.body);
    assert!(by_id(json!({"response_id": r.body["id"]}), true).is_ok());
    let e = by_id(
        json!({"response_id": r.body["id"], "custom_llm_provider": "anthropic"}),
        false,
    )
    .err()
    .unwrap();
    assert_eq!(e.kind, crate::error::ErrorKind::NotFound);
    assert_eq!(mock.requests().len(), before, "nothing went over the wire");
}
