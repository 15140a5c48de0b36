use std::sync::Arc;

use serde_json::{json, Value};

use super::events::EventWriter;
use super::*;
use crate::stream::Chunk;
use crate::test_support::obj;

fn err(v: Value) -> String {
    check_request(&obj(v))
        .err()
        .map(|e| e.message)
        .unwrap_or_default()
}

fn base() -> Value {
    json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
}

fn with(field: &str, v: Value) -> Value {
    let mut b = base();
    b[field] = v;
    b
}

#[test]
fn bad_requests_are_refused_with_what_to_send() {
    assert!(check_request(&obj(base())).is_ok());
    assert!(
        err(json!({"messages": [{"role": "user", "content": "x"}]})).contains("needs max_tokens=")
    );
    assert!(err(with("max_tokens", json!(0))).contains("positive integer"));
    assert!(err(with("max_tokens", json!("10"))).contains("positive integer"));
    assert!(err(json!({"max_tokens": 5})).contains("needs messages="));
    assert!(err(with("messages", json!([]))).contains("must not be empty"));
    assert!(err(with("messages", json!("hi"))).contains("messages must be a list"));
    assert!(err(with("messages", json!(["hi"]))).contains("messages[0] must be a dict"));
    assert!(err(with(
        "messages",
        json!([{"role": "system", "content": "x"}])
    ))
    .contains("system prompt goes in system="));
    assert!(err(with("messages", json!([{"role": "user"}]))).contains("needs \"content\""));
    assert!(
        err(with("messages", json!([{"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}])))
            .contains("has type \"tool_use\"")
    );
    assert!(err(with(
        "messages",
        json!([{"role": "user", "content": [{"type": "text"}]}])
    ))
    .contains("needs \"text\""));
    assert!(
        err(with("messages", json!([{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": "{}"}]}])))
            .contains("needs \"input\" (dict)")
    );
    assert!(err(with("system", json!(5))).contains("system must be"));
    assert!(err(with("tools", json!([{"description": "x"}]))).contains("tools[0]"));
    assert!(err(with("tool_choice", json!("auto"))).contains("tool_choice must be a dict"));
    assert!(err(with("tool_choice", json!({"type": "tool"}))).contains("tool_choice must be"));
    assert!(err(with("thinking", json!({"type": "enabled"}))).contains("budget_tokens"));
    assert!(err(with("stop_sequences", json!("END"))).contains("stop_sequences"));
    assert!(err(with("metadata", json!("u"))).contains("metadata must be a dict"));
}

#[test]
fn a_request_becomes_chat_messages_tools_and_parameters() {
    let req = obj(json!({
        "model": "openai/gpt-4o",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image, and the weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]},
                {"type": "text", "text": "thanks"}
            ]}
        ],
        "tools": [{"name": "weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
        "temperature": 0.5,
        "api_key": "sk-test",
        "stream": true,
    }));
    let (chat, bridge) = to_chat(req, false).unwrap();
    assert_eq!(bridge.model, "openai/gpt-4o");
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "system", "content": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}
            ]},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
            {"role": "user", "content": [{"type": "text", "text": "thanks"}]}
        ])
    );
    assert_eq!(
        chat["tools"],
        json!([{"type": "function", "function": {"name": "weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    );
    assert_eq!(chat["tool_choice"], "required");
    assert_eq!(chat["parallel_tool_calls"], false);
    assert_eq!(chat["stop"], json!(["END"]));
    assert_eq!(chat["user"], "u-1");
    assert_eq!(chat["max_tokens"], 100);
    assert_eq!(chat["temperature"], 0.5);
    assert_eq!(chat["api_key"], "sk-test");
    assert_eq!(chat["stream_options"], json!({"include_usage": true}));
    for gone in ["system", "metadata", "stop_sequences", "thinking"] {
        assert!(!chat.contains_key(gone), "{gone}");
    }
}

#[test]
fn tool_choice_thinking_and_error_results_map() {
    let mut req = obj(base());
    req.insert("tool_choice".into(), json!({"type": "tool", "name": "f"}));
    req.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 4000}),
    );
    req.insert(
        "messages".into(),
        json!([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "boom", "is_error": true}]}]),
    );
    let (chat, _) = to_chat(req.clone(), true).unwrap();
    assert_eq!(
        chat["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(chat["reasoning_effort"], "medium");
    assert_eq!(
        chat["messages"],
        json!([{"role": "tool", "tool_call_id": "t", "content": "Error: boom"}])
    );
    // A model without reasoning gets no reasoning_effort (LiteLLM drops thinking too).
    let (chat, _) = to_chat(req, false).unwrap();
    assert!(!chat.contains_key("reasoning_effort"));
    assert_eq!(reasoning_effort(1024), "low");
    assert_eq!(reasoning_effort(10_000), "high");
}

#[test]
fn a_file_id_source_is_refused() {
    let req = obj(with(
        "messages",
        json!([{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]),
    ));
    let e = to_chat(req, false).err().unwrap();
    assert!(
        e.message.contains("messages[0].content[0]"),
        "{}",
        e.message
    );
}

#[test]
fn a_chat_reply_becomes_a_message() {
    let bridge = Bridge {
        model: "openai/gpt-4o".into(),
    };
    let chat = obj(json!({
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Checking.", "reasoning_content": "think",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}}]
        }}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "prompt_tokens_details": {"cached_tokens": 2}}
    }));
    let m = bridge.reply(&chat);
    assert!(m["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(m["type"], "message");
    assert_eq!(m["role"], "assistant");
    assert_eq!(m["model"], "openai/gpt-4o");
    assert_eq!(
        m["content"],
        json!([
            {"type": "thinking", "thinking": "think", "signature": ""},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}}
        ])
    );
    assert_eq!(m["stop_reason"], "tool_use");
    assert_eq!(m["stop_sequence"], Value::Null);
    assert_eq!(
        m["usage"],
        json!({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 2})
    );
    for (finish, stop) in [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
    ] {
        assert_eq!(stop_reason(Some(finish)), stop);
    }
    // Arguments that are not a JSON object are kept, not lost.
    assert_eq!(
        tool_input(Some(&json!("not json"))),
        json!({"arguments": "not json"})
    );
}

fn kinds(out: &[Chunk]) -> Vec<String> {
    out.iter()
        .map(|c| match c {
            Chunk::Full(m) => m["type"].as_str().unwrap_or_default().to_string(),
            Chunk::Simple(_) => "simple".into(),
            Chunk::Delta(d) => d.kind.name().into(),
        })
        .collect()
}

fn events(out: Vec<Chunk>) -> Vec<Value> {
    out.into_iter()
        .map(|c| Value::Object(c.into_map()))
        .collect()
}

#[test]
fn a_chat_stream_becomes_anthropic_events() {
    let mut w = EventWriter::new(Arc::new(Bridge { model: "m".into() }));
    let mut out = Vec::new();
    let chunk = |delta: Value, finish: Value| {
        obj(
            json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    w.chunk(
        chunk(json!({"reasoning_content": "hm"}), Value::Null),
        &mut out,
    );
    w.chunk(chunk(json!({"content": "Hel"}), Value::Null), &mut out);
    w.chunk(chunk(json!({"content": "lo"}), Value::Null), &mut out);
    w.chunk(
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{\"a\""}}]}),
            Value::Null,
        ),
        &mut out,
    );
    w.chunk(
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
            Value::Null,
        ),
        &mut out,
    );
    w.chunk(chunk(json!({}), json!("tool_calls")), &mut out);
    w.chunk(
        obj(json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}})),
        &mut out,
    );
    w.finish(&mut out);
    assert_eq!(
        kinds(&out),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let ev = events(out);
    assert_eq!(ev[0]["message"]["model"], "m");
    assert_eq!(ev[1]["content_block"]["type"], "thinking");
    assert_eq!(
        ev[2]["delta"],
        json!({"type": "thinking_delta", "thinking": "hm"})
    );
    assert_eq!(ev[4]["index"], 1);
    assert_eq!(ev[6]["delta"], json!({"type": "text_delta", "text": "lo"}));
    assert_eq!(
        ev[8]["content_block"],
        json!({"type": "tool_use", "id": "call_1", "name": "f", "input": {}})
    );
    assert_eq!(
        ev[10]["delta"],
        json!({"type": "input_json_delta", "partial_json": ": 1}"})
    );
    assert_eq!(ev[11]["index"], 2);
    assert_eq!(ev[12]["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        ev[12]["usage"],
        json!({"input_tokens": 7, "output_tokens": 3})
    );
}
