//! The OpenAI wire format as the mock speaks it: chat completions and their stream
//! chunks, legacy text completions, embeddings, the model list and error bodies.
//!
//! Everything here is pure (request JSON in, response JSON out) so it is tested without
//! sockets; `server.rs` adds the HTTP around it.

use serde_json::{json, Map, Value};

/// The reply when nothing else decides it.
pub const DEFAULT_TEXT: &str = "Hello from MockServer!";

/// Embedding length when the request gives no `dimensions`.
const DEFAULT_DIMENSIONS: u64 = 8;
/// Bounds a single request's work; far above any real model.
const MAX_DIMENSIONS: u64 = 16_384;
/// Bounds `n`, for the same reason.
const MAX_CHOICES: u64 = 128;

/// A response the caller should send as JSON with this status.
pub(crate) type Reject = (u16, Value);

/// Behaviours asked for through the model name. The whole name is searched, so
/// `openai/error-429`, `mock/echo-slow-50` and `tool-chunks-3` all work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `echo`: reply with the last user message's text.
    pub echo: bool,
    /// `tool`: call the first tool when the request has tools.
    pub tool: bool,
    /// `error-<status>` (400..=599): fail with that status and an OpenAI error body.
    pub error_status: Option<u16>,
    /// `context-window-error`: OpenAI's 400 `context_length_exceeded`.
    pub context_window_error: bool,
    /// `content-policy-error`: OpenAI's 400 `content_policy_violation`.
    pub content_policy_error: bool,
    /// `slow-<ms>`: wait that long before answering.
    pub slow_ms: Option<u64>,
    /// `chunks-<N>`: stream the reply in N content chunks.
    pub chunks: Option<u32>,
}

impl Directives {
    /// Reads the directives out of a model name (case-insensitive).
    pub fn parse(model: &str) -> Self {
        let m = model.to_ascii_lowercase();
        Directives {
            echo: m.contains("echo"),
            tool: m.contains("tool"),
            error_status: number_after(&m, "error-")
                .and_then(|n| u16::try_from(n).ok())
                .filter(|s| (400..=599).contains(s)),
            context_window_error: m.contains("context-window-error"),
            content_policy_error: m.contains("content-policy-error"),
            slow_ms: number_after(&m, "slow-"),
            chunks: number_after(&m, "chunks-").and_then(|n| u32::try_from(n).ok()),
        }
    }

    /// The error response the model name asks for, if any.
    pub(crate) fn error(&self) -> Option<Reject> {
        if self.context_window_error {
            return Some((
                400,
                error_body(
                    "This model's maximum context length is 8192 tokens. However, your \
                     messages resulted in 9000 tokens.",
                    "invalid_request_error",
                    Some("messages"),
                    Some("context_length_exceeded"),
                ),
            ));
        }
        if self.content_policy_error {
            return Some((
                400,
                error_body(
                    "Your request was rejected as a result of our safety system.",
                    "invalid_request_error",
                    None,
                    Some("content_policy_violation"),
                ),
            ));
        }
        self.error_status.map(|status| {
            (
                status,
                status_error(status, &format!("Mock error {status}")),
            )
        })
    }
}

/// The first run of digits right after an occurrence of `prefix`.
fn number_after(s: &str, prefix: &str) -> Option<u64> {
    s.match_indices(prefix).find_map(|(i, _)| {
        let rest = &s[i + prefix.len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    })
}

/// `{"error": {"message", "type", "param", "code"}}`, OpenAI's error envelope.
pub(crate) fn error_body(
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// An error body with the `type` and `code` OpenAI uses for this status.
pub(crate) fn status_error(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        403 => ("permission_error", None),
        404 => ("invalid_request_error", Some("model_not_found")),
        408 => ("timeout", None),
        429 => ("requests", Some("rate_limit_exceeded")),
        400..=499 => ("invalid_request_error", None),
        500..=599 => ("server_error", None),
        _ => ("api_error", None),
    };
    error_body(message, kind, None, code)
}

fn bad_request(message: &str, param: Option<&str>, code: Option<&str>) -> Reject {
    (
        400,
        error_body(message, "invalid_request_error", param, code),
    )
}

/// OpenAI's answer to a body that is not a JSON object.
pub(crate) fn invalid_json() -> Reject {
    bad_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you \
         aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
         but what was sent was not valid JSON.)",
        None,
        None,
    )
}

/// OpenAI's answer to an unknown route.
pub(crate) fn invalid_url(method: &str, path: &str) -> Reject {
    (
        404,
        error_body(
            &format!("Invalid URL ({method} {path})"),
            "invalid_request_error",
            None,
            None,
        ),
    )
}

/// Mock token counts: whitespace-separated words, so tests can predict them.
pub(crate) fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// The text of a message `content`: a string, or its text parts joined by newlines.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The first `k` words of `s` (original spacing kept), or `None` when `s` has no more.
fn truncate_words(s: &str, k: u64) -> Option<&str> {
    if words(s) <= k {
        return None;
    }
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            in_word = true;
            if seen == k {
                return Some(s[..i].trim_end());
            }
            seen += 1;
        }
    }
    None
}

/// Stream pieces, one per word with the spaces before it kept: "a b" -> ["a", " b"].
fn split_words(s: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if in_word {
                pieces.push(std::mem::take(&mut current));
                in_word = false;
            }
        } else {
            in_word = true;
        }
        current.push(c);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Exactly `n` pieces of nearly equal length (in characters); empty ones when `s` is short.
fn split_even(s: &str, n: u32) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let n = n.max(1) as usize;
    let (base, extra) = (chars.len() / n, chars.len() % n);
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        pieces.push(chars[start..start + len].iter().collect());
        start += len;
    }
    pieces
}

/// Pieces of at most `size` characters.
fn split_every(s: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn max_tokens(req: &Map<String, Value>) -> Option<u64> {
    req.get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
        .and_then(Value::as_u64)
}

fn choice_count(req: &Map<String, Value>) -> u64 {
    req.get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, MAX_CHOICES)
}

/// What the caller supplies besides the request: the script's say and the defaults.
pub(crate) struct ReplySource<'a> {
    /// A script's `text`, which beats `echo` and tools.
    pub text_override: Option<String>,
    pub default_text: String,
    pub directives: &'a Directives,
    /// A script's `stream_chunks`, which beats `chunks-N`.
    pub stream_chunks: Option<u32>,
}

impl ReplySource<'_> {
    fn pieces(&self) -> Option<u32> {
        self.stream_chunks.or(self.directives.chunks)
    }
}

/// One tool call the mock makes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    /// A JSON string, as OpenAI sends it.
    pub arguments: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reply {
    Text(String),
    ToolCalls(Vec<ToolCall>),
}

impl Reply {
    fn words(&self) -> u64 {
        match self {
            Reply::Text(t) => words(t),
            Reply::ToolCalls(calls) => calls.iter().map(|c| words(&c.arguments)).sum(),
        }
    }
}

/// A chat request, decided: everything needed to write the response or its stream.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChatAnswer {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub n: u64,
    pub reply: Reply,
    pub finish_reason: &'static str,
    pub prompt_tokens: u64,
    pub stream: bool,
    pub include_usage: bool,
    pieces: Option<u32>,
}

/// Decides the answer to a chat completions request.
pub(crate) fn chat(
    req: &Map<String, Value>,
    serial: u64,
    src: &ReplySource<'_>,
) -> Result<ChatAnswer, Reject> {
    let model = req.get("model").and_then(Value::as_str).unwrap_or_default();
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return Err(bad_request(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ));
    };
    let prompt_tokens = messages
        .iter()
        .map(|m| words(&content_text(m.get("content"))))
        .sum();

    let tool_calls = if src.text_override.is_some() {
        None
    } else {
        choose_tool_calls(req, src.directives)?
    };
    let (reply, finish_reason) = match tool_calls {
        Some(calls) => (Reply::ToolCalls(calls), "tool_calls"),
        None => {
            let text = match &src.text_override {
                Some(t) => t.clone(),
                None => match structured_text(req, messages) {
                    Some(json) => json,
                    None if src.directives.echo => last_user_text(messages),
                    None => src.default_text.clone(),
                },
            };
            match max_tokens(req).and_then(|k| truncate_words(&text, k)) {
                Some(cut) => (Reply::Text(cut.to_string()), "length"),
                None => (Reply::Text(text), "stop"),
            }
        }
    };
    Ok(ChatAnswer {
        id: format!("chatcmpl-mock-{serial}"),
        created: now_secs(),
        model: model.to_string(),
        n: choice_count(req),
        reply,
        finish_reason,
        prompt_tokens,
        stream: req.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: req
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        pieces: src.pieces(),
    })
}

/// The reply to a `response_format` request: JSON filling the `json_schema` (from the
/// prompt, as tool arguments are), or for `json_object` an object whose keys are the
/// quoted identifiers of the prompt (`"... with 'setup' and 'punchline' keys"`).
fn structured_text(req: &Map<String, Value>, messages: &[Value]) -> Option<String> {
    let format = req.get("response_format")?;
    let prompt = last_user_text(messages);
    let value = match format.get("type").and_then(Value::as_str)? {
        "json_schema" => {
            let schema = format.get("json_schema")?.get("schema")?;
            fill(schema, 0, &mut PromptFacts::read(&prompt))
        }
        "json_object" => {
            let keys: Map<String, Value> = PromptFacts::read(&prompt)
                .quoted
                .into_iter()
                .filter(|q| q.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .map(|k| (k, json!("example")))
                .collect();
            if keys.is_empty() {
                json!({"text": DEFAULT_TEXT})
            } else {
                Value::Object(keys)
            }
        }
        _ => return None,
    };
    serde_json::to_string(&value).ok()
}

fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
        .unwrap_or_default()
}

/// Tools are called when `tool_choice` demands it (`"required"` or a named function) or
/// when the model name says `tool`; `"none"` always wins. Under `tool` the mock decides
/// as a model would: the tool whose name the last user message mentions (else the
/// first), and a text answer once the last message is a tool result.
fn choose_tool_calls(
    req: &Map<String, Value>,
    d: &Directives,
) -> Result<Option<Vec<ToolCall>>, Reject> {
    let tools: Vec<&Map<String, Value>> = req
        .get("tools")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("function").and_then(Value::as_object))
                .filter(|f| f.get("name").and_then(Value::as_str).is_some())
                .collect()
        })
        .unwrap_or_default();
    let Some(first) = tools.first() else {
        return Ok(None);
    };
    let parallel = req.get("parallel_tool_calls") != Some(&Value::Bool(false));
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let prompt = last_user_text(messages);
    let tool_call = |f: &Map<String, Value>| tool_call(f, &mut PromptFacts::read(&prompt));
    match req.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => Ok(None),
        Some(Value::String(s)) if s == "required" => {
            // Parallel calls share the prompt: each takes the facts the previous left.
            let chosen = if parallel { &tools[..] } else { &tools[..1] };
            let mut facts = PromptFacts::read(&prompt);
            Ok(Some(
                chosen
                    .iter()
                    .map(|f| self::tool_call(f, &mut facts))
                    .collect(),
            ))
        }
        Some(Value::Object(choice)) => {
            let name = choice
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match tools
                .iter()
                .find(|f| f.get("name").and_then(Value::as_str) == Some(name))
            {
                Some(f) => Ok(Some(vec![tool_call(f)])),
                None => Err(bad_request(
                    &format!(
                        "Invalid value for 'tool_choice': function '{name}' not found in 'tools'."
                    ),
                    Some("tool_choice"),
                    None,
                )),
            }
        }
        _ if d.tool => {
            let answered = messages
                .last()
                .and_then(|m| m.get("role"))
                .and_then(Value::as_str)
                == Some("tool");
            if answered {
                return Ok(None);
            }
            let named = tools.iter().find(|f| {
                f.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| prompt.contains(n))
            });
            Ok(Some(vec![tool_call(named.unwrap_or(first))]))
        }
        _ => Ok(None),
    }
}

fn tool_call(function: &Map<String, Value>, facts: &mut PromptFacts) -> ToolCall {
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let args = match function.get("parameters") {
        Some(schema) => fill(schema, 0, facts),
        None => Value::Object(Map::new()),
    };
    let hex = uuid::Uuid::new_v4().simple().to_string();
    ToolCall {
        id: format!("call_{}", &hex[..24]),
        name: name.to_string(),
        arguments: serde_json::to_string(&args).unwrap_or_else(|_| "{}".to_string()),
    }
}

/// What the mock "reads" in a prompt to fill arguments, used in order: the standalone
/// integers (`magic_function(3)` gives 3; `gpt-4o` gives none) and the quoted phrases
/// (`named '你好啊集团'`, `“上海”的天气`; an apostrophe inside a word opens no quote).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PromptFacts {
    numbers: std::collections::VecDeque<i64>,
    quoted: std::collections::VecDeque<String>,
}

impl PromptFacts {
    pub(crate) fn read(prompt: &str) -> Self {
        let chars: Vec<char> = prompt.chars().collect();
        let word = |i: usize| {
            chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        };
        let mut facts = PromptFacts::default();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let boundary = i == 0 || !word(i - 1);
            if c.is_ascii_digit() && boundary {
                let end = (i..chars.len())
                    .find(|&j| !chars[j].is_ascii_digit())
                    .unwrap_or(chars.len());
                if !word(end) {
                    let digits: String = chars[i..end].iter().collect();
                    let negative = i > 0 && chars[i - 1] == '-' && (i < 2 || !word(i - 2));
                    if let Ok(n) = digits.parse::<i64>() {
                        facts.numbers.push_back(if negative { -n } else { n });
                    }
                }
                i = end;
                continue;
            }
            // Only `'` doubles as an apostrophe, so only it needs word boundaries.
            let (close, bounded) = match c {
                '\'' => (Some(c), true),
                '"' => (Some(c), false),
                '\u{2018}' => (Some('\u{2019}'), false),
                '\u{201c}' => (Some('\u{201d}'), false),
                _ => (None, false),
            };
            if let Some(close) = close.filter(|_| boundary || !bounded) {
                let end = (i + 1..chars.len())
                    .find(|&j| chars[j] == close && (!bounded || !word(j + 1)))
                    .filter(|&j| j > i + 1 && !chars[i + 1..j].contains(&'\n'));
                if let Some(end) = end {
                    facts.quoted.push_back(chars[i + 1..end].iter().collect());
                    i = end + 1;
                    continue;
                }
            }
            i += 1;
        }
        facts
    }
}

/// A value that satisfies a JSON schema well enough for a test: every property filled by
/// type (strings "example" or the first enum value, numbers 1, booleans true, arrays
/// empty, objects recursively).
#[cfg(test)]
fn placeholder(schema: &Value, depth: u32) -> Value {
    fill(schema, depth, &mut PromptFacts::default())
}

/// [`placeholder`]'s rules, with integers and strings taken from the prompt first.
fn fill(schema: &Value, depth: u32, facts: &mut PromptFacts) -> Value {
    // Self-referencing schemas cannot recurse forever.
    if depth > 16 {
        return Value::Null;
    }
    let Some(s) = schema.as_object() else {
        return json!("example");
    };
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(options) = s.get(key).and_then(Value::as_array) {
            let option = options
                .iter()
                .find(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                .or_else(|| options.first());
            if let Some(o) = option {
                return fill(o, depth + 1, facts);
            }
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "string",
    };
    match ty {
        "integer" | "number" => json!(facts.numbers.pop_front().unwrap_or(1)),
        "boolean" => json!(true),
        "array" => json!([]),
        "null" => Value::Null,
        "object" => {
            let mut out = Map::new();
            // As a model would: required properties (all, when the schema lists none)
            // take the prompt's facts; optional ones their default, else a placeholder.
            let required: Option<Vec<&str>> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect());
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    let value = match (&required, v.get("default")) {
                        (Some(names), Some(default)) if !names.contains(&k.as_str()) => {
                            default.clone()
                        }
                        (Some(names), None) if !names.contains(&k.as_str()) => {
                            fill(v, depth + 1, &mut PromptFacts::default())
                        }
                        _ => fill(v, depth + 1, facts),
                    };
                    out.insert(k.clone(), value);
                }
            }
            // Required names missing from `properties` still get a value.
            for name in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                out.entry(name).or_insert_with(|| json!("example"));
            }
            Value::Object(out)
        }
        _ => json!(facts.quoted.pop_front().unwrap_or_else(|| "example".into())),
    }
}

fn tool_calls_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect(),
    )
}

impl ChatAnswer {
    fn usage(&self) -> Value {
        usage(self.prompt_tokens, self.reply.words() * self.n)
    }

    /// The `chat.completion` object.
    pub(crate) fn completion(&self) -> Value {
        let message = match &self.reply {
            Reply::Text(t) => json!({"role": "assistant", "content": t}),
            Reply::ToolCalls(calls) => {
                json!({"role": "assistant", "content": null, "tool_calls": tool_calls_json(calls)})
            }
        };
        let choices: Vec<Value> = (0..self.n)
            .map(|i| {
                json!({"index": i, "message": message, "logprobs": null,
                       "finish_reason": self.finish_reason})
            })
            .collect();
        json!({
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model, "choices": choices, "usage": self.usage(),
        })
    }

    fn chunk(&self, index: u64, delta: Value, finish_reason: Option<&str>) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
        })
    }

    /// The `chat.completion.chunk` events, in OpenAI's order: role, content or tool-call
    /// fragments, the finish, and the usage chunk when `stream_options.include_usage`.
    pub(crate) fn chunks(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for index in 0..self.n {
            match &self.reply {
                Reply::Text(text) => {
                    out.push(self.chunk(index, json!({"role": "assistant", "content": ""}), None));
                    let pieces = match self.pieces {
                        Some(n) => split_even(text, n),
                        None => split_words(text),
                    };
                    for piece in pieces {
                        out.push(self.chunk(index, json!({"content": piece}), None));
                    }
                }
                Reply::ToolCalls(calls) => {
                    out.push(self.chunk(
                        index,
                        json!({"role": "assistant", "content": null}),
                        None,
                    ));
                    for (i, call) in calls.iter().enumerate() {
                        // OpenAI opens a call with its id and name and empty arguments,
                        // then sends the arguments as string fragments under the same index.
                        let head = json!({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                            "function": {"name": call.name, "arguments": ""}}]});
                        out.push(self.chunk(index, head, None));
                        let fragments = match self.pieces {
                            Some(n) => split_even(&call.arguments, n),
                            None => split_every(&call.arguments, 8),
                        };
                        for fragment in fragments {
                            let delta = json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]});
                            out.push(self.chunk(index, delta, None));
                        }
                    }
                }
            }
            out.push(self.chunk(index, json!({}), Some(self.finish_reason)));
        }
        if self.include_usage {
            out.push(json!({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [], "usage": self.usage(),
            }));
        }
        out
    }
}

/// A legacy `/completions` answer: either the full object or its stream events.
pub(crate) fn text_completion(
    req: &Map<String, Value>,
    serial: u64,
    src: &ReplySource<'_>,
) -> Result<(bool, Vec<Value>), Reject> {
    let model = req.get("model").and_then(Value::as_str).unwrap_or_default();
    let prompts: Vec<String> = match req.get("prompt") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().map(input_text).collect(),
        _ => {
            return Err(bad_request(
                "Missing required parameter: 'prompt'.",
                Some("prompt"),
                Some("missing_required_parameter"),
            ))
        }
    };
    let text = match &src.text_override {
        Some(t) => t.clone(),
        None if src.directives.echo => prompts.last().cloned().unwrap_or_default(),
        None => src.default_text.clone(),
    };
    let (text, finish_reason) = match max_tokens(req).and_then(|k| truncate_words(&text, k)) {
        Some(cut) => (cut.to_string(), "length"),
        None => (text, "stop"),
    };
    let n = choice_count(req);
    let id = format!("cmpl-mock-{serial}");
    let created = now_secs();
    let prompt_tokens: u64 = prompts.iter().map(|p| words(p)).sum();
    let usage = usage(prompt_tokens, words(&text) * n);
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let event = |choices: Value| json!({"id": id, "object": "text_completion", "created": created, "model": model, "choices": choices});
    if !stream {
        let choices: Vec<Value> = (0..n)
            .map(|i| json!({"text": text, "index": i, "logprobs": null, "finish_reason": finish_reason}))
            .collect();
        let mut body = event(Value::Array(choices));
        body["usage"] = usage;
        return Ok((false, vec![body]));
    }
    let pieces = match src.pieces() {
        Some(k) => split_even(&text, k),
        None => split_words(&text),
    };
    let mut events = Vec::new();
    for i in 0..n {
        for piece in &pieces {
            events.push(event(
                json!([{"text": piece, "index": i, "logprobs": null, "finish_reason": null}]),
            ));
        }
        events.push(event(
            json!([{"text": "", "index": i, "logprobs": null, "finish_reason": finish_reason}]),
        ));
    }
    if req
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        let mut last = event(json!([]));
        last["usage"] = usage;
        events.push(last);
    }
    Ok((true, events))
}

/// The text of one embeddings/completions input: a string, or a token list (ids joined
/// by spaces, so each token counts as one word).
fn input_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        Value::Array(tokens) => tokens
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// The `/embeddings` answer: one deterministic vector per input.
pub(crate) fn embeddings(req: &Map<String, Value>) -> Result<Value, Reject> {
    let model = req.get("model").and_then(Value::as_str).unwrap_or_default();
    let inputs: Vec<String> = match req.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        // A flat list of numbers is one token list, not several inputs.
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_number) => {
            vec![input_text(&Value::Array(items.clone()))]
        }
        Some(Value::Array(items)) if !items.is_empty() => items.iter().map(input_text).collect(),
        _ => {
            return Err(bad_request(
                "'input' must be a non-empty string or array.",
                Some("input"),
                None,
            ))
        }
    };
    let dims = req
        .get("dimensions")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_DIMENSIONS);
    if !(1..=MAX_DIMENSIONS).contains(&dims) {
        return Err(bad_request(
            &format!("'dimensions' must be between 1 and {MAX_DIMENSIONS}."),
            Some("dimensions"),
            None,
        ));
    }
    let base64 = req.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let vector = embedding_vector(text, dims as usize);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                Value::String(base64_encode(&bytes))
            } else {
                Value::Array(vector.iter().map(|&x| json!(f64::from(x))).collect())
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|t| words(t)).sum();
    Ok(json!({
        "object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
}

/// A vector derived from a hash of `text`: same text, same vector. Components are
/// multiples of 1/1024 in [-1, 1], exact in both f32 and f64, so the float and base64
/// forms decode to identical numbers.
pub(crate) fn embedding_vector(text: &str, dims: usize) -> Vec<f32> {
    // FNV-1a: stable across platforms and Rust versions, unlike DefaultHasher.
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        seed ^= u64::from(*b);
        seed = seed.wrapping_mul(0x0100_0000_01b3);
    }
    (0..dims as u64)
        .map(|i| {
            // splitmix64 of (seed, i) spreads neighbouring indices apart.
            let mut z = seed.wrapping_add((i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let k = (z % 2049) as i32 - 1024;
            k as f32 / 1024.0
        })
        .collect()
}

/// Standard base64 with padding (what OpenAI returns for `encoding_format: "base64"`).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `GET /models`.
pub(crate) fn models() -> Value {
    let created = now_secs();
    let data: Vec<Value> = ["mock-model", "gpt-4o-mini", "text-embedding-3-small"]
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": created, "owned_by": "rustllm-mock"}))
        .collect();
    json!({"object": "list", "data": data})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_found_anywhere_in_the_model_name() {
        let d = Directives::parse("openai/echo-slow-50-chunks-3");
        assert!(d.echo);
        assert_eq!(d.slow_ms, Some(50));
        assert_eq!(d.chunks, Some(3));
        assert_eq!(
            Directives::parse("openai/error-429").error_status,
            Some(429)
        );
        assert_eq!(Directives::parse("error-200").error_status, None);
        assert_eq!(Directives::parse("gpt-4o-mini"), Directives::default());
        assert!(Directives::parse("context-window-error").error().is_some());
    }

    #[test]
    fn truncation_keeps_the_first_words() {
        assert_eq!(truncate_words("a b  c d", 2), Some("a b"));
        assert_eq!(truncate_words("a b", 2), None);
        assert_eq!(truncate_words(" a b", 0), Some(""));
    }

    #[test]
    fn splitting_keeps_every_character() {
        assert_eq!(
            split_words("Hello from  X!"),
            vec!["Hello", " from", "  X!"]
        );
        assert_eq!(split_even("abcdefg", 3), vec!["abc", "de", "fg"]);
        assert_eq!(split_even("ab", 3), vec!["a", "b", ""]);
        assert_eq!(split_every("abcde", 2), vec!["ab", "cd", "e"]);
    }

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn schema_placeholders_follow_types() {
        let schema = json!({"type": "object", "properties": {
            "city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
            "days": {"type": "integer"}, "ok": {"type": "boolean"}, "tags": {"type": "array"},
            "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
            "maybe": {"type": ["null", "string"]}
        }, "required": ["city", "extra"]});
        assert_eq!(
            placeholder(&schema, 0),
            json!({"city": "example", "unit": "c", "days": 1, "ok": true, "tags": [],
                   "where": {"lat": 1}, "maybe": "example", "extra": "example"})
        );
    }

    #[test]
    fn prompt_facts_are_numbers_and_quoted_phrases() {
        let f = PromptFacts::read(
            "What's magic_function(3) for gpt-4o, -2 and 'Hi there' or \"你好\"?",
        );
        assert_eq!(Vec::from(f.numbers), vec![3, -2]);
        assert_eq!(Vec::from(f.quoted), vec!["Hi there", "你好"]);
        let f = PromptFacts::read("Create a customer named '你好啊集团' (Hello Group)");
        assert_eq!(Vec::from(f.quoted), vec!["你好啊集团"]);
        let f = PromptFacts::read("“上海”现在的天气怎么样？“AAPL”的股价是多少？");
        assert_eq!(Vec::from(f.quoted), vec!["上海", "AAPL"]);
        assert_eq!(
            PromptFacts::read("it's rock'n'roll"),
            PromptFacts::default()
        );
    }

    fn request(body: Value) -> Map<String, Value> {
        body.as_object().unwrap().clone()
    }

    fn decide(body: Value) -> ChatAnswer {
        let src = ReplySource {
            text_override: None,
            default_text: DEFAULT_TEXT.into(),
            directives: &Directives::parse(body["model"].as_str().unwrap()),
            stream_chunks: None,
        };
        chat(&request(body), 1, &src).unwrap()
    }

    #[test]
    fn tool_arguments_come_from_the_prompt() {
        let add = json!({"type": "function", "function": {"name": "add", "parameters": {"type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "who": {"type": "string"}}}}});
        let answer = decide(
            json!({"model": "m", "tools": [add], "tool_choice": "required",
            "messages": [{"role": "user", "content": "What is 3 + 4 for 'Ann'?"}]}),
        );
        let Reply::ToolCalls(calls) = answer.reply else {
            panic!()
        };
        let args: Value = serde_json::from_str(&calls[0].arguments).unwrap();
        assert_eq!(args, json!({"a": 3, "b": 4, "who": "Ann"}));
        // Parallel calls take turns: the second gets what the first left.
        let city = json!({"type": "function", "function": {"name": "weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}});
        let stock = json!({"type": "function", "function": {"name": "stock", "parameters": {
            "type": "object", "properties": {"symbol": {"type": "string"}}}}});
        let answer = decide(
            json!({"model": "m", "tools": [city, stock], "tool_choice": "required",
            "messages": [{"role": "user", "content": "“上海”的天气？“AAPL”的股价？"}]}),
        );
        let Reply::ToolCalls(calls) = answer.reply else {
            panic!()
        };
        let args: Vec<String> = calls.iter().map(|c| c.arguments.clone()).collect();
        assert_eq!(args, vec![r#"{"city":"上海"}"#, r#"{"symbol":"AAPL"}"#]);
        // Optional properties keep their default and leave the facts to required ones.
        let schema = json!({"type": "object", "required": ["city"], "properties": {
            "unit": {"type": "string", "default": "celsius"}, "note": {"type": "string"},
            "city": {"type": "string"}}});
        assert_eq!(
            fill(&schema, 0, &mut PromptFacts::read("'Paris'")),
            json!({"unit": "celsius", "note": "example", "city": "Paris"})
        );
    }

    #[test]
    fn the_tool_directive_picks_the_named_tool_and_answers_results_in_text() {
        let tool = |name: &str| json!({"type": "function", "function": {"name": name}});
        let tools = json!([tool("first"), tool("get_time")]);
        let answer = decide(json!({"model": "mock-tool", "tools": tools,
            "messages": [{"role": "user", "content": "call get_time please"}]}));
        let Reply::ToolCalls(calls) = answer.reply else {
            panic!()
        };
        assert_eq!(calls[0].name, "get_time");
        let answer = decide(json!({"model": "mock-tool", "tools": tools, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "first", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"}]}));
        assert_eq!(
            (answer.reply, answer.finish_reason),
            (Reply::Text(DEFAULT_TEXT.into()), "stop")
        );
    }

    #[test]
    fn response_formats_get_json() {
        let schema = json!({"type": "object", "properties": {"setup": {"type": "string"},
            "punchline": {"anyOf": [{"type": "string"}, {"type": "null"}]}}});
        let answer = decide(
            json!({"model": "m", "messages": [{"role": "user", "content": "a joke"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "Joke", "schema": schema}}}),
        );
        let Reply::Text(text) = answer.reply else {
            panic!()
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, json!({"setup": "example", "punchline": "example"}));
        let answer = decide(
            json!({"model": "m", "response_format": {"type": "json_object"},
            "messages": [{"role": "user", "content": "JSON with 'setup' and 'punchline' keys"}]}),
        );
        let Reply::Text(text) = answer.reply else {
            panic!()
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, json!({"setup": "example", "punchline": "example"}));
    }

    #[test]
    fn embeddings_are_deterministic_and_exact() {
        let a = embedding_vector("hello", 16);
        assert_eq!(a, embedding_vector("hello", 16));
        assert_ne!(a, embedding_vector("hellp", 16));
        assert!(a
            .iter()
            .all(|x| (-1.0..=1.0).contains(x) && (x * 1024.0).fract() == 0.0));
    }
}
