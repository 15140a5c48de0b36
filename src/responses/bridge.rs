//! The Responses API over chat completions, for providers without one (as LiteLLM
//! bridges them): the request becomes chat keyword arguments, the chat reply becomes a
//! Response.

use serde_json::{json, Map, Value};

use super::store;
use super::{bad, new_id, type_name, usage_from_chat};
use crate::error::LlmError;

/// Responses parameters that have no chat counterpart and are not sent over the bridge:
/// `include`, `truncation` and `store` only concern OpenAI's own storage and output
/// extras; `prompt_cache_key`, `safety_identifier` and `max_tool_calls` are OpenAI's.
const NOT_SENT: &[&str] = &[
    "include",
    "truncation",
    "store",
    "prompt_cache_key",
    "safety_identifier",
    "max_tool_calls",
];

/// What a bridged call must remember to answer as a Response: its id, the conversation
/// so far (as chat messages, without `instructions`), and the request fields a Response
/// echoes.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub id: String,
    pub history: Vec<Value>,
    pub echo: Map<String, Value>,
    /// `store=False` keeps the Response out of the store.
    pub store: bool,
}

/// Chat keyword arguments for a Responses request, and the [`Bridge`] that turns the
/// reply back. Fails before any network call on input that has no chat form, and on a
/// `previous_response_id` this process does not know.
pub fn to_chat(mut kwargs: Map<String, Value>) -> Result<(Map<String, Value>, Bridge), LlmError> {
    let take = |k: &mut Map<String, Value>, name: &str| k.remove(name).filter(|v| !v.is_null());
    let input = take(&mut kwargs, "input").unwrap_or(Value::Null);
    let instructions = take(&mut kwargs, "instructions");
    let previous = take(&mut kwargs, "previous_response_id");
    let tools = take(&mut kwargs, "tools");
    let tool_choice = take(&mut kwargs, "tool_choice");
    let text = take(&mut kwargs, "text");
    let reasoning = take(&mut kwargs, "reasoning");
    let max_output_tokens = take(&mut kwargs, "max_output_tokens");
    let store = take(&mut kwargs, "store").and_then(|v| v.as_bool()) != Some(false);
    if take(&mut kwargs, "background").and_then(|v| v.as_bool()) == Some(true) {
        return Err(bad(
            "background=True needs a provider with its own Responses API (OpenAI, Azure); this one is reached over chat completions".into(),
        ));
    }
    if take(&mut kwargs, "prompt").is_some() {
        return Err(bad(
            "prompt= (a stored prompt template) needs a provider with its own Responses API (OpenAI, Azure); send the text as input= or instructions= instead".into(),
        ));
    }
    for name in NOT_SENT {
        kwargs.remove(*name);
    }

    let mut history = match &previous {
        None => Vec::new(),
        Some(Value::String(id)) => match store::get(id) {
            Some(turn) => turn.messages.clone(),
            None => {
                return Err(bad(format!(
                    "previous_response_id {id:?} is not known to this process: responses from providers reached over chat completions are kept in memory here (the last {} of them), not by the provider",
                    store::CAPACITY
                )))
            }
        },
        Some(other) => {
            return Err(bad(format!(
                "previous_response_id must be a string, got {}",
                type_name(other)
            )))
        }
    };
    history.extend(input_messages(&input)?);
    let mut messages = Vec::with_capacity(history.len() + 1);
    if let Some(Value::String(text)) = &instructions {
        messages.push(json!({"role": "system", "content": text}));
    }
    messages.extend(history.iter().cloned());
    kwargs.insert("messages".into(), Value::Array(messages));

    if let Some(tools) = &tools {
        kwargs.insert("tools".into(), chat_tools(tools)?);
    }
    if let Some(choice) = &tool_choice {
        kwargs.insert("tool_choice".into(), chat_tool_choice(choice)?);
    }
    if let Some(format) = text.as_ref().and_then(|t| t.get("format")) {
        if let Some(rf) = response_format(format) {
            kwargs.insert("response_format".into(), rf);
        }
    }
    if let Some(effort) = reasoning.as_ref().and_then(|r| r.get("effort")) {
        if !effort.is_null() {
            kwargs.insert("reasoning_effort".into(), effort.clone());
        }
    }
    if let Some(max) = &max_output_tokens {
        kwargs.insert("max_tokens".into(), max.clone());
    }
    if kwargs.get("stream").and_then(Value::as_bool) == Some(true) {
        // The usage chunk is what `response.completed` reports.
        kwargs.insert("stream_options".into(), json!({"include_usage": true}));
    }

    let mut echo = Map::new();
    let copy = |echo: &mut Map<String, Value>, name: &str, v: Option<Value>, default: Value| {
        echo.insert(name.into(), v.unwrap_or(default));
    };
    copy(&mut echo, "instructions", instructions, Value::Null);
    copy(
        &mut echo,
        "max_output_tokens",
        max_output_tokens,
        Value::Null,
    );
    copy(
        &mut echo,
        "parallel_tool_calls",
        kwargs.get("parallel_tool_calls").cloned(),
        Value::Bool(true),
    );
    copy(&mut echo, "previous_response_id", previous, Value::Null);
    copy(&mut echo, "reasoning", reasoning, Value::Null);
    copy(
        &mut echo,
        "temperature",
        kwargs.get("temperature").cloned(),
        Value::Null,
    );
    copy(&mut echo, "text", text, json!({"format": {"type": "text"}}));
    copy(&mut echo, "tool_choice", tool_choice, json!("auto"));
    copy(&mut echo, "tools", tools, json!([]));
    copy(
        &mut echo,
        "top_p",
        kwargs.get("top_p").cloned(),
        Value::Null,
    );
    copy(&mut echo, "user", kwargs.get("user").cloned(), Value::Null);
    echo.insert("store".into(), Value::Bool(store));
    let bridge = Bridge {
        id: new_id("resp"),
        history,
        echo,
        store,
    };
    Ok((kwargs, bridge))
}

/// Chat messages for Responses input: a string is one user message; items are messages
/// (`developer` becomes `system`, content parts become chat parts), `function_call`s
/// (joined onto the assistant message before them) and `function_call_output`s (tool
/// messages). Reasoning items are not replayable to another provider and are skipped.
pub fn input_messages(input: &Value) -> Result<Vec<Value>, LlmError> {
    let items = match input {
        Value::String(s) => return Ok(vec![json!({"role": "user", "content": s})]),
        Value::Array(items) => items,
        other => {
            return Err(bad(format!(
                "input must be a string or a list of input items, got {}",
                type_name(other)
            )))
        }
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(bad(format!(
                "input[{i}] must be a dict, got {}",
                type_name(item)
            )));
        };
        let kind =
            item.get("type")
                .and_then(Value::as_str)
                .unwrap_or(if item.contains_key("role") {
                    "message"
                } else {
                    ""
                });
        match kind {
            "message" => out.push(message(i, item)?),
            "function_call" => {
                let call = json!({
                    "id": item.get("call_id").or(item.get("id")).cloned().unwrap_or(Value::Null),
                    "type": "function",
                    "function": {
                        "name": item.get("name").cloned().unwrap_or(Value::Null),
                        "arguments": item.get("arguments").cloned().unwrap_or(json!("")),
                    },
                });
                let joins = out.last().is_some_and(|m| m["role"] == "assistant");
                match out.last_mut() {
                    Some(Value::Object(last)) if joins => match last.get_mut("tool_calls") {
                        Some(Value::Array(calls)) => calls.push(call),
                        _ => {
                            last.insert("tool_calls".into(), json!([call]));
                        }
                    },
                    _ => out.push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
                }
            }
            "function_call_output" => {
                let output = match item.get("output") {
                    Some(Value::String(s)) => Value::String(s.clone()),
                    Some(Value::Array(parts)) => Value::String(joined_text(parts)),
                    Some(other) => Value::String(other.to_string()),
                    None => Value::String(String::new()),
                };
                out.push(json!({
                    "role": "tool",
                    "tool_call_id": item.get("call_id").cloned().unwrap_or(Value::Null),
                    "content": output,
                }));
            }
            "reasoning" => {}
            other => {
                return Err(bad(format!(
                    "input[{i}] is an item of type {other:?}, which cannot be sent over chat completions (messages, function_call, function_call_output and reasoning items can)"
                )))
            }
        }
    }
    Ok(out)
}

fn joined_text(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("")
}

fn message(i: usize, item: &Map<String, Value>) -> Result<Value, LlmError> {
    let role = match item.get("role").and_then(Value::as_str) {
        Some("developer") => "system",
        Some(r @ ("user" | "assistant" | "system")) => r,
        other => {
            return Err(bad(format!(
                "input[{i}][\"role\"] must be \"user\", \"assistant\", \"system\" or \"developer\", got {}",
                other.map(|s| format!("{s:?}")).unwrap_or_else(|| "nothing".into())
            )))
        }
    };
    let content = match item.get("content") {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Array(parts)) if role != "user" => Value::String(joined_text(parts)),
        Some(Value::Array(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                out.push(content_part(i, j, part)?);
            }
            Value::Array(out)
        }
        other => {
            return Err(bad(format!(
                "input[{i}][\"content\"] must be a string or a list of content parts, got {}",
                type_name(other.unwrap_or(&Value::Null))
            )))
        }
    };
    Ok(json!({"role": role, "content": content}))
}

fn content_part(i: usize, j: usize, part: &Value) -> Result<Value, LlmError> {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "input_text" | "output_text" | "text" => Ok(json!({
            "type": "text",
            "text": part.get("text").cloned().unwrap_or(json!("")),
        })),
        "input_image" => match part.get("image_url") {
            Some(Value::String(url)) => {
                let mut image = json!({"url": url});
                if let Some(detail) = part.get("detail").filter(|d| !d.is_null()) {
                    image["detail"] = detail.clone();
                }
                Ok(json!({"type": "image_url", "image_url": image}))
            }
            _ => Err(bad(format!(
                "input[{i}][\"content\"][{j}] is an input_image without an image_url (a file_id needs OpenAI's own Responses API)"
            ))),
        },
        "input_file" => {
            let mut file = Map::new();
            for key in ["file_data", "file_id", "filename"] {
                if let Some(v) = part.get(key).filter(|v| !v.is_null()) {
                    file.insert(key.into(), v.clone());
                }
            }
            Ok(json!({"type": "file", "file": file}))
        }
        other => Err(bad(format!(
            "input[{i}][\"content\"][{j}] has type {other:?}; input_text, input_image and input_file parts can be sent"
        ))),
    }
}

/// Responses function tools are flat (`{"type": "function", "name", "parameters"}`);
/// chat nests them under `function`. Tools already in chat's shape pass as they are;
/// OpenAI's hosted tools (web search, file search, ...) have no chat form.
fn chat_tools(tools: &Value) -> Result<Value, LlmError> {
    let Value::Array(tools) = tools else {
        return Err(bad(format!(
            "tools must be a list of tool definitions, got {}",
            type_name(tools)
        )));
    };
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind != "function" {
            return Err(bad(format!(
                "tools[{i}] is a {kind:?} tool, which only OpenAI's own Responses API runs; over chat completions only function tools can be sent"
            )));
        }
        if tool.get("function").is_some() {
            out.push(tool.clone());
            continue;
        }
        let mut function = Map::new();
        for key in ["name", "description", "parameters", "strict"] {
            if let Some(v) = tool.get(key).filter(|v| !v.is_null()) {
                function.insert(key.into(), v.clone());
            }
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(Value::Array(out))
}

fn chat_tool_choice(choice: &Value) -> Result<Value, LlmError> {
    match choice {
        Value::String(_) => Ok(choice.clone()),
        Value::Object(c) if c.contains_key("function") => Ok(choice.clone()),
        Value::Object(c) if c.get("type").and_then(Value::as_str) == Some("function") => Ok(
            json!({"type": "function", "function": {"name": c.get("name").cloned().unwrap_or(Value::Null)}}),
        ),
        other => Err(bad(format!(
            "tool_choice {other} names a hosted tool, which only OpenAI's own Responses API runs"
        ))),
    }
}

/// `text.format` as chat's `response_format` (`None` for plain text).
fn response_format(format: &Value) -> Option<Value> {
    match format.get("type").and_then(Value::as_str)? {
        "json_object" => Some(json!({"type": "json_object"})),
        "json_schema" => {
            let mut schema = Map::new();
            for key in ["name", "schema", "strict", "description"] {
                if let Some(v) = format.get(key).filter(|v| !v.is_null()) {
                    schema.insert(key.into(), v.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        _ => None,
    }
}

/// Output items for one chat message: reasoning (from `reasoning_content`), the text,
/// then one `function_call` per tool call, all `completed`.
pub fn output_items(message: &Value) -> Vec<Value> {
    let mut items = Vec::new();
    if let Some(text) = message
        .get("reasoning_content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        items.push(reasoning_item(&new_id("rs"), text));
    }
    if let Some(text) = message.get("content").and_then(Value::as_str) {
        if !text.is_empty() || message.get("tool_calls").is_none_or(Value::is_null) {
            items.push(message_item(&new_id("msg"), text, "completed"));
        }
    }
    if let Some(Value::Array(calls)) = message.get("tool_calls") {
        for call in calls {
            items.push(function_call_item(
                &new_id("fc"),
                call.get("id").and_then(Value::as_str).unwrap_or_default(),
                call.pointer("/function/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                call.pointer("/function/arguments")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                "completed",
            ));
        }
    }
    items
}

pub fn reasoning_item(id: &str, text: &str) -> Value {
    let summary = if text.is_empty() {
        json!([])
    } else {
        json!([{"type": "summary_text", "text": text}])
    };
    json!({"type": "reasoning", "id": id, "summary": summary})
}

pub fn message_item(id: &str, text: &str, status: &str) -> Value {
    let content = if status == "in_progress" {
        json!([])
    } else {
        json!([{"type": "output_text", "text": text, "annotations": []}])
    };
    json!({"type": "message", "id": id, "status": status, "role": "assistant", "content": content})
}

pub fn function_call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    status: &str,
) -> Value {
    json!({"type": "function_call", "id": id, "call_id": call_id, "name": name,
           "arguments": arguments, "status": status})
}

/// `(status, incomplete_details)` for a chat finish reason.
pub fn status_of(finish_reason: Option<&str>) -> (&'static str, Value) {
    match finish_reason {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

impl Bridge {
    /// A Response with the request's echoed fields: `status`, `output` and `usage` are
    /// the caller's.
    pub fn response(
        &self,
        model: &Value,
        created_at: Value,
        status: &str,
        incomplete: Value,
        output: Vec<Value>,
        usage: Value,
    ) -> Map<String, Value> {
        let mut r = Map::with_capacity(self.echo.len() + 10);
        r.insert("id".into(), Value::String(self.id.clone()));
        r.insert("object".into(), json!("response"));
        r.insert("created_at".into(), created_at);
        r.insert("status".into(), json!(status));
        r.insert("error".into(), Value::Null);
        r.insert("incomplete_details".into(), incomplete);
        r.insert("model".into(), model.clone());
        r.insert("output".into(), Value::Array(output));
        r.extend(self.echo.clone());
        r.insert("usage".into(), usage);
        r.insert("metadata".into(), json!({}));
        r
    }

    /// The Response for a chat reply; the turn is stored for `previous_response_id`.
    pub fn reply(&self, chat: &Map<String, Value>) -> Map<String, Value> {
        let choice = chat.get("choices").and_then(|c| c.get(0));
        let empty = json!({});
        let message = choice.and_then(|c| c.get("message")).unwrap_or(&empty);
        let (status, incomplete) = status_of(
            choice
                .and_then(|c| c.get("finish_reason"))
                .and_then(Value::as_str),
        );
        let usage = chat
            .get("usage")
            .map(usage_from_chat)
            .unwrap_or(Value::Null);
        let created = chat
            .get("created")
            .cloned()
            .unwrap_or_else(|| json!(crate::providers::unix_now()));
        let model = chat.get("model").cloned().unwrap_or(Value::Null);
        let response = self.response(
            &model,
            created,
            status,
            incomplete,
            output_items(message),
            usage,
        );
        self.remember(assistant_message(message), &response);
        response
    }

    /// Store the turn (unless `store=False`): the history, then the assistant's reply.
    pub fn remember(&self, assistant: Value, response: &Map<String, Value>) {
        if !self.store {
            return;
        }
        store::put_turn(&self.id, &self.history, &assistant, response);
    }
}

/// The assistant message to replay in a later turn: its text and tool calls (reasoning
/// stays out: providers refuse another model's reasoning).
pub fn assistant_message(message: &Value) -> Value {
    let mut m = json!({"role": "assistant", "content": message.get("content").cloned().unwrap_or(Value::Null)});
    if let Some(calls) = message.get("tool_calls").filter(|c| c.is_array()) {
        m["tool_calls"] = calls.clone();
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj;

    #[test]
    fn a_request_becomes_chat_keyword_arguments() {
        let (chat, bridge) = to_chat(obj(json!({
            "model": "anthropic/claude-x",
            "input": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "input_text", "text": "weather?"},
                                             {"type": "input_image", "image_url": "https://x/i.png"}]},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                {"type": "reasoning", "id": "rs_1", "summary": []},
            ],
            "instructions": "You are terse.",
            "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "get_weather"},
            "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}},
            "reasoning": {"effort": "low"},
            "max_output_tokens": 50,
            "store": true,
            "include": ["reasoning.encrypted_content"],
            "temperature": 0.2,
            "api_key": "k",
        })))
        .unwrap();
        assert_eq!(
            chat["messages"],
            json!([
                {"role": "system", "content": "You are terse."},
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "weather?"},
                                             {"type": "image_url", "image_url": {"url": "https://x/i.png"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ])
        );
        assert_eq!(
            chat["tools"],
            json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])
        );
        assert_eq!(
            chat["tool_choice"],
            json!({"type": "function", "function": {"name": "get_weather"}})
        );
        assert_eq!(
            chat["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": true}})
        );
        assert_eq!(chat["reasoning_effort"], json!("low"));
        assert_eq!(chat["max_tokens"], json!(50));
        assert_eq!(chat["temperature"], json!(0.2));
        for gone in [
            "input",
            "instructions",
            "text",
            "reasoning",
            "max_output_tokens",
            "store",
            "include",
        ] {
            assert!(!chat.contains_key(gone), "{gone}");
        }
        assert!(bridge.id.starts_with("resp_"));
        assert_eq!(bridge.echo["instructions"], json!("You are terse."));
        // The history leaves instructions out: they are not carried to the next turn.
        assert_eq!(bridge.history.len(), 4);
    }

    #[test]
    fn what_has_no_chat_form_is_refused() {
        let refuse = |v: Value| to_chat(obj(v)).err().map(|e| e.message).unwrap_or_default();
        assert!(
            refuse(json!({"input": "x", "tools": [{"type": "web_search_preview"}]}))
                .contains("only OpenAI's own Responses API")
        );
        assert!(
            refuse(json!({"input": [{"type": "item_reference", "id": "x"}]}))
                .contains("cannot be sent over chat")
        );
        assert!(refuse(json!({"input": [{"role": "tool", "content": "x"}]}))
            .contains("[\"role\"] must be"));
        assert!(
            refuse(json!({"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}))
                .contains("has type \"input_audio\"")
        );
        assert!(
            refuse(json!({"input": "x", "previous_response_id": "resp_unknown"}))
                .contains("not known to this process")
        );
        assert!(refuse(json!({"input": "x", "background": true})).contains("background=True"));
    }

    #[test]
    fn a_chat_reply_becomes_a_response_and_the_turn_is_kept() {
        let (_, bridge) = to_chat(obj(json!({"input": "hi", "instructions": "sys"}))).unwrap();
        let chat = obj(json!({
            "id": "chatcmpl-1", "created": 7, "model": "claude-x",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Let me check.", "reasoning_content": "thinking",
                "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
        }));
        let r = bridge.reply(&chat);
        assert_eq!(r["id"], json!(bridge.id));
        assert_eq!(r["object"], json!("response"));
        assert_eq!(r["status"], json!("completed"));
        assert_eq!(r["created_at"], json!(7));
        let types: Vec<&str> = r["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["reasoning", "message", "function_call"]);
        assert_eq!(r["output"][1]["content"][0]["text"], json!("Let me check."));
        assert_eq!(r["output"][2]["call_id"], json!("call_9"));
        assert_eq!(r["usage"]["input_tokens"], json!(5));
        assert_eq!(r["instructions"], json!("sys"));
        // The next turn starts from the stored conversation.
        let (chat2, _) = to_chat(obj(
            json!({"input": "and?", "previous_response_id": bridge.id}),
        ))
        .unwrap();
        let roles: Vec<&str> = chat2["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(chat2["messages"][1]["tool_calls"][0]["id"], json!("call_9"));
    }

    #[test]
    fn a_cut_reply_is_incomplete() {
        let (_, bridge) = to_chat(obj(json!({"input": "hi", "store": false}))).unwrap();
        let r = bridge.reply(&obj(
            json!({"choices": [{"finish_reason": "length", "message": {"content": "Hel"}}]}),
        ));
        assert_eq!(r["status"], json!("incomplete"));
        assert_eq!(
            r["incomplete_details"],
            json!({"reason": "max_output_tokens"})
        );
        assert!(store::get(&bridge.id).is_none(), "store=False keeps it out");
    }
}
