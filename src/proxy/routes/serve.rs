//! One routed call, as every model route serves it: the Router picks the deployment
//! (retries, fallbacks, cooldowns, cache), the provider code makes the call, and the
//! reply goes back as JSON or as SSE with LiteLLM's `x-litellm-*` headers.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::{error_response, route_to, Begun, CallHeaders};
use crate::call::{self, OpenStream, Reply};
use crate::catalogue::cost::CustomPrices;
use crate::error::LlmError;
use crate::providers::Endpointkind;
use crate::proxy::budget::Payer;
use crate::proxy::errors::ProxyError;
use crate::proxy::ops;
use crate::proxy::spend::SpendEvent;
use crate::proxy::sse::{SseBody, StreamSpend, Style};
use crate::proxy::state::AppState;
use crate::proxy::store::storable;
use crate::router::RouteInfo;

/// The route families that call a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Chat,
    /// `/completions` with a `prompt`.
    Text,
    Embeddings,
    /// `/rerank` (Cohere's body), `/v1/rerank`, `/v2/rerank`.
    Rerank,
    /// `/moderations` (OpenAI's body).
    Moderation,
    /// `/responses`: the Responses API (bridged over chat for non-OpenAI deployments).
    Responses,
    /// `/images/generations` (OpenAI's body).
    Images,
    /// `/audio/speech` (OpenAI's body; the reply is audio).
    Speech,
    /// `/v1/messages`: Anthropic's Messages API (translated over chat for non-Anthropic
    /// deployments).
    Messages,
    /// `/audio/transcriptions` (multipart, read by `uploads.rs`).
    Transcription,
    /// `/images/edits` (multipart, read by `uploads.rs`).
    ImageEdit,
    /// `/files` and `/batches` (`files.rs`): one operation of the Files or Batches API.
    Files(crate::files::FilesOp),
}

impl Family {
    /// LiteLLM's call type (the response cache's `supported_call_types` use them).
    fn call_type(self) -> &'static str {
        match self {
            Family::Chat => "acompletion",
            Family::Text => "atext_completion",
            Family::Embeddings => "aembedding",
            Family::Rerank => "arerank",
            Family::Moderation => "amoderation",
            Family::Responses => "aresponses",
            Family::Images => "aimage_generation",
            Family::Speech => "aspeech",
            Family::Messages => "anthropic_messages",
            Family::Transcription => "atranscription",
            Family::ImageEdit => "aimage_edit",
            Family::Files(op) => files_call_type(op),
        }
    }

    fn route(self) -> &'static str {
        match self {
            Family::Chat => "chat",
            Family::Text => "completions",
            Family::Embeddings => "embeddings",
            Family::Rerank => "rerank",
            Family::Moderation => "moderations",
            Family::Responses => "responses",
            Family::Images => "images/generations",
            Family::Speech => "audio/speech",
            Family::Messages => "messages",
            Family::Transcription => "audio/transcriptions",
            Family::ImageEdit => "images/edits",
            Family::Files(op) => files_route(op),
        }
    }
}

/// Whether a text completion for this deployment goes to the chat endpoint
/// ([`crate::call::text_route`]); an OpenAI model bound for `/completions` is renamed
/// `text-completion-openai/<model>` in `merged`.
fn text_uses_chat(merged: &mut Map<String, Value>) -> bool {
    let text = |k: &str| merged.get(k).and_then(Value::as_str);
    let (chat, renamed) = crate::call::text_route(
        text("model").unwrap_or(""),
        text("custom_llm_provider"),
        text("base_url").or(text("api_base")),
    );
    if let Some(model) = renamed {
        merged.insert("model".into(), Value::String(model));
        merged.remove("custom_llm_provider");
    }
    chat
}

/// Where a text completion goes, with its arguments: a prompt for a chat model becomes
/// one user message.
fn text_target(
    mut merged: Map<String, Value>,
) -> Result<(Endpointkind, Map<String, Value>), LlmError> {
    if !text_uses_chat(&mut merged) {
        return Ok((Endpointkind::TextCompletion, merged));
    }
    let prompt = match merged.remove("prompt") {
        Some(Value::String(s)) => s,
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
            items[0].as_str().unwrap_or("").to_string()
        }
        Some(other) => {
            return Err(LlmError::bad_request(format!(
                "this deployment's model is a chat model: it takes one prompt string, got {}",
                crate::types::type_name(&other)
            )))
        }
        None => String::new(),
    };
    // Completions-only parameters a chat model has no use for.
    for key in ["best_of", "echo", "suffix", "logprobs"] {
        merged.remove(key);
    }
    merged.insert(
        "messages".into(),
        json!([{"role": "user", "content": prompt}]),
    );
    Ok((Endpointkind::Chat, merged))
}

/// A chat-completion body (a chat model's reply, a mock) in `text_completion` shape.
fn text_body(mut body: Map<String, Value>) -> Map<String, Value> {
    let Some(Value::Array(choices)) = body.get("choices") else {
        return body;
    };
    if choices.first().is_none_or(|c| c.get("message").is_none()) {
        return body;
    }
    let choices: Vec<Value> = choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "text": c.pointer("/message/content").and_then(Value::as_str).unwrap_or(""),
                "index": c.get("index").cloned().unwrap_or(Value::from(i)),
                "logprobs": c.get("logprobs").cloned().unwrap_or(Value::Null),
                "finish_reason": c.get("finish_reason").cloned().unwrap_or(Value::Null),
            })
        })
        .collect();
    body.insert("object".into(), Value::String("text_completion".into()));
    body.insert("choices".into(), Value::Array(choices));
    body
}

/// The provider call for one deployment (the Router's `call`).
async fn call_once(family: Family, merged: Map<String, Value>) -> Result<Reply, LlmError> {
    match family {
        Family::Chat => call::run(call::prepare(Endpointkind::Chat, merged)?).await,
        Family::Embeddings => call::run(call::prepare(Endpointkind::Embeddings, merged)?).await,
        Family::Rerank => call::run(call::prepare(Endpointkind::Rerank, merged)?).await,
        Family::Moderation => call::run(call::prepare(Endpointkind::Moderation, merged)?).await,
        Family::Responses => call::run(call::prepare(Endpointkind::Responses, merged)?).await,
        Family::Images => call::run(call::prepare(Endpointkind::ImageGeneration, merged)?).await,
        Family::Speech => call::run(call::prepare(Endpointkind::Speech, merged)?).await,
        Family::Messages => {
            call::run(call::prepare(Endpointkind::AnthropicMessages, merged)?).await
        }
        Family::Transcription => {
            call::run(call::prepare(Endpointkind::Transcription, merged)?).await
        }
        Family::ImageEdit => call::run(call::prepare(Endpointkind::ImageEdit, merged)?).await,
        Family::Files(op) => crate::files::run(op, merged).await,
        Family::Text => {
            let (kind, merged) = text_target(merged)?;
            let mut reply = call::run(call::prepare(kind, merged)?).await?;
            reply.body = text_body(std::mem::take(&mut reply.body));
            Ok(reply)
        }
    }
}

/// The call type a stream is routed under (the Router's logs name it; the Responses API
/// and Anthropic's Messages API are checked by their own rules).
fn stream_call_type(family: Family) -> &'static str {
    match family {
        Family::Responses | Family::Messages => family.call_type(),
        _ => "completion",
    }
}

/// Open a stream on one deployment.
async fn open_once(family: Family, merged: Map<String, Value>) -> Result<OpenStream, LlmError> {
    match family {
        Family::Chat => call::run_stream(call::prepare(Endpointkind::Chat, merged)?).await,
        Family::Text => {
            let (kind, merged) = text_target(merged)?;
            call::run_stream(call::prepare(kind, merged)?).await
        }
        Family::Responses => {
            call::run_stream(call::prepare(Endpointkind::Responses, merged)?).await
        }
        Family::Messages => {
            call::run_stream(call::prepare(Endpointkind::AnthropicMessages, merged)?).await
        }
        Family::Embeddings
        | Family::Rerank
        | Family::Moderation
        | Family::Images
        | Family::Speech
        | Family::Transcription
        | Family::ImageEdit
        | Family::Files(_) => Err(LlmError::bad_request(format!(
            "{} does not stream",
            family.route()
        ))),
    }
}

fn ms_since(t: std::time::Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The spend event of a request, before its outcome is known.
fn spend_event(
    begun: &Begun,
    family: Family,
    group: &str,
    stream: bool,
    wall_start: SystemTime,
) -> SpendEvent {
    let grant = begun.identity.grant.as_deref();
    SpendEvent {
        call_id: begun.call_id.clone(),
        route: family.route(),
        key_hash: begun.identity.key_hash.clone(),
        user_id: grant.and_then(|g| g.user_id.clone()),
        team_id: grant.and_then(|g| g.team_id.clone()),
        end_user: end_user(&begun.body, family).map(Cow::into_owned),
        requested_model: storable(
            begun
                .body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
        .into_owned(),
        model_group: group.to_string(),
        model_id: String::new(),
        provider: String::new(),
        cost: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        stream,
        status: 200,
        cache_hit: false,
        started: wall_start,
        duration: std::time::Duration::ZERO,
        grant: begun.identity.grant.clone(),
        llm_api_duration: None,
        time_to_first_token: None,
        rate_limit_remaining: None,
        guardrails: Vec::new(),
    }
}

/// A request refused before any provider call (over budget, over a rate limit, a model
/// the key may not use, an unknown model) still counts in the metrics, the request log
/// and the failure alerts, as LiteLLM counts it a failed request. It costs nothing, so
/// it is not a spend event. A model name that is no group is not a label value (any
/// client could grow the metrics without bound): it reads as no model.
fn refused(state: &AppState, begun: &Begun, family: Family, e: &ProxyError) {
    let group = begun
        .body
        .get("model")
        .and_then(Value::as_str)
        .and_then(|m| state.router.resolve_group(m).ok())
        .map(|(g, _)| g);
    let mut ev = spend_event(
        begun,
        family,
        group.as_deref().unwrap_or(""),
        false,
        SystemTime::now(),
    );
    if group.is_none() {
        ev.requested_model.clear();
    }
    ev.status = e.status.as_u16();
    ev.duration = begun.started.elapsed();
    state.ops.observe(&ev);
}

/// The request's end user (LiteLLM's customer): its `user` field, or for Anthropic's
/// Messages API (which has no `user`) its `metadata.user_id`; as the database stores it
/// ([`storable`]), so that its budget and its spend are one id.
fn end_user(body: &Map<String, Value>, family: Family) -> Option<Cow<'_, str>> {
    let user = match family {
        Family::Messages => body.get("metadata").and_then(|m| m.get("user_id")),
        _ => body.get("user"),
    };
    user.and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(storable)
}

/// Request-body prices and budgets the SDK honours (`completion(...,
/// input_cost_per_token=...)`) but a proxy client must not set: they would change what
/// the client is charged. Removed before routing, so that neither the cost nor the
/// provider request sees them (refusing them would break clients that send SDK
/// defaults; what is charged comes only from the deployment's config or the catalogue).
pub const CLIENT_PRICE_PARAMS: &[&str] = &[
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_second",
    "output_cost_per_second",
    "input_cost_per_pixel",
    "output_cost_per_pixel",
    "max_budget",
    "budget_duration",
];

/// Refuse a request whose key, team, user or end user is over budget (in memory, no
/// database read).
fn check_budget(state: &AppState, begun: &Begun, family: Family) -> Result<(), ProxyError> {
    let Some(ledger) = state.spend.as_ref().and_then(|s| s.ledger()) else {
        return Ok(());
    };
    let grant = begun.identity.grant.as_deref();
    let end_user = end_user(&begun.body, family);
    let payer = Payer {
        key: begun.identity.key_hash.as_deref(),
        user: grant.and_then(|g| g.user_id.as_deref()),
        team: grant.and_then(|g| g.team_id.as_deref()),
        end_user: end_user.as_deref(),
    };
    ledger.check(&payer, crate::proxy::store::time::now_ms())
}

/// LiteLLM's call type of a files or batches operation.
fn files_call_type(op: crate::files::FilesOp) -> &'static str {
    use crate::files::FilesOp;
    match op {
        FilesOp::CreateFile => "acreate_file",
        FilesOp::RetrieveFile => "afile_retrieve",
        FilesOp::FileContent => "afile_content",
        FilesOp::DeleteFile => "afile_delete",
        FilesOp::ListFiles => "afile_list",
        FilesOp::CreateBatch => "acreate_batch",
        FilesOp::RetrieveBatch => "aretrieve_batch",
        FilesOp::ListBatches => "alist_batches",
        FilesOp::CancelBatch => "acancel_batch",
    }
}

/// The route name of a files or batches operation (spend rows and metrics read it).
fn files_route(op: crate::files::FilesOp) -> &'static str {
    use crate::files::FilesOp;
    match op {
        FilesOp::CreateFile => "files/create",
        FilesOp::RetrieveFile => "files/retrieve",
        FilesOp::FileContent => "files/content",
        FilesOp::DeleteFile => "files/delete",
        FilesOp::ListFiles => "files/list",
        FilesOp::CreateBatch => "batches/create",
        FilesOp::RetrieveBatch => "batches/retrieve",
        FilesOp::ListBatches => "batches/list",
        FilesOp::CancelBatch => "batches/cancel",
    }
}

/// The families guardrails run on: those whose requests carry text for a model in the
/// fields the guardrails read (messages, `input`, `prompt`, `instructions`, `system`,
/// rerank's `query` and `documents`; a multipart upload's text fields, such as a
/// transcription's or an image edit's `prompt`, are read the same way; its files are
/// audio and images).
fn guarded(family: Family) -> bool {
    matches!(
        family,
        Family::Chat
            | Family::Text
            | Family::Embeddings
            | Family::Responses
            | Family::Messages
            | Family::Images
            | Family::Speech
            | Family::Moderation
            | Family::Rerank
            | Family::Transcription
            | Family::ImageEdit
    )
}

/// A request a guardrail refused before the call: counted and logged like any refusal,
/// and, with records (a guardrail ran and blocked), a spend row (no cost) carrying them.
fn refused_by_guardrail(
    state: &AppState,
    begun: &Begun,
    family: Family,
    refusal: crate::proxy::guardrails::Refusal,
) -> Response {
    if refusal.records.is_empty() {
        refused(state, begun, family, &refusal.error);
        return error_response(refusal.error, Some(&begun.call_id));
    }
    crate::proxy::guardrails::report(
        &state.ops,
        &begun.call_id,
        &begun.identity,
        &refusal.records,
    );
    let group = begun
        .body
        .get("model")
        .and_then(Value::as_str)
        .and_then(|m| state.router.resolve_group(m).ok())
        .map(|(g, _)| g);
    let mut ev = spend_event(
        begun,
        family,
        group.as_deref().unwrap_or(""),
        false,
        SystemTime::now(),
    );
    if group.is_none() {
        ev.requested_model.clear();
    }
    ev.status = refusal.error.status.as_u16();
    ev.duration = begun.started.elapsed();
    ev.guardrails = refusal.records;
    ops::finish(state, ev);
    error_response(refusal.error, Some(&begun.call_id))
}

/// Serve a model request that passed [`super::begin`].
pub async fn serve(state: Arc<AppState>, mut begun: Begun, family: Family) -> Response {
    for param in CLIENT_PRICE_PARAMS {
        begun.body.remove(*param);
    }
    if let Err(e) = check_budget(&state, &begun, family) {
        refused(&state, &begun, family, &e);
        return error_response(e, Some(&begun.call_id));
    }
    // Guardrails before the call (and before the rate limits: a blocked request uses
    // none). Without a `guardrails:` config this is one `None` check.
    let mut guards = None;
    if state.guardrails.is_none() && guarded(family) {
        if let Some(e) = crate::proxy::guardrails::named_without_config(
            &begun.body,
            begun.identity.grant.as_deref(),
        ) {
            refused(&state, &begun, family, &e);
            return error_response(e, Some(&begun.call_id));
        }
    }
    if let (Some(g), true) = (&state.guardrails, guarded(family)) {
        match g
            .before_call(
                &mut begun.body,
                begun.identity.grant.as_deref(),
                begun.identity.key_hash.as_deref(),
                family.call_type(),
            )
            .await
        {
            Ok(ctx) => guards = ctx,
            Err(refusal) => return refused_by_guardrail(&state, &begun, family, refusal),
        }
        if let Some(ctx) = &guards {
            crate::proxy::guardrails::report(
                &state.ops,
                &begun.call_id,
                &begun.identity,
                &ctx.records,
            );
        }
    }
    // A batch input or fine-tuning file: its lines reach the provider with no proxy
    // in between (see `guardrails::batch`).
    let mut file_records = Vec::new();
    if let (Some(g), Family::Files(crate::files::FilesOp::CreateFile)) = (&state.guardrails, family)
    {
        match crate::proxy::guardrails::batch::guard_input_file(
            g,
            &begun.body,
            begun.identity.grant.as_deref(),
            begun.identity.key_hash.as_deref(),
        )
        .await
        {
            Ok(records) => file_records = records,
            Err(refusal) => return refused_by_guardrail(&state, &begun, family, refusal),
        }
        crate::proxy::guardrails::report(
            &state.ops,
            &begun.call_id,
            &begun.identity,
            &file_records,
        );
    }
    let (group, mut permit) = match route_to(&state, &begun).await {
        Ok(r) => r,
        Err(e) => {
            refused(&state, &begun, family, &e);
            return error_response(e, Some(&begun.call_id));
        }
    };
    let text_format = family == Family::Transcription
        && begun
            .body
            .get("response_format")
            .and_then(Value::as_str)
            .is_some_and(|f| crate::providers::transcription::TEXT_FORMATS.contains(&f));
    let stream = matches!(
        family,
        Family::Chat | Family::Text | Family::Responses | Family::Messages
    ) && begun.body.get("stream").and_then(Value::as_bool) == Some(true);
    let wall_start = SystemTime::now();
    // Metrics always count the request (crate::proxy::ops); spend when it is tracked.
    let mut event = Some(spend_event(&begun, family, &group, stream, wall_start));
    let Begun {
        started,
        call_id,
        body,
        identity,
    } = begun;
    let key_hash = identity.key_hash.clone();
    let virtual_key = identity.role == crate::proxy::auth::Role::VirtualKey;
    if let (Some(ev), Some(ctx)) = (&mut event, &guards) {
        ev.guardrails = ctx.records.clone();
    }
    if let (Some(ev), false) = (&mut event, file_records.is_empty()) {
        ev.guardrails = file_records;
    }
    if stream {
        return serve_stream(
            state, started, call_id, body, family, permit, event, key_hash, guards, identity,
        )
        .await;
    }
    // The request as sent, for post-call guardrails of a class (they see both).
    let request = guards
        .as_ref()
        .filter(|g| g.needs_request())
        .map(|_| body.clone());
    let result = state
        .router
        .route_cached(family.call_type(), body, |merged| call_once(family, merged))
        .await;
    match result {
        Ok((reply, info)) => {
            if family == Family::Responses {
                if let Some(id) = reply.body.get("id").and_then(Value::as_str) {
                    super::responses::record_owner(id, key_hash.as_ref());
                }
            }
            let mut reply = reply;
            if let Family::Files(op) = family {
                super::files::after_reply(op, &mut reply.body, key_hash.as_ref(), virtual_key);
            }
            let default = CustomPrices::default();
            let prices = state.prices.get(&info.model_id).unwrap_or(&default);
            let cost = if info.cache_hit {
                Some(0.0)
            } else {
                reply.cost(prices)
            };
            if let Some(ctx) = guards.as_mut().filter(|g| g.after_call()) {
                let before = ctx.records.len();
                let empty = Map::new();
                let checked = ctx
                    .on_reply(request.as_ref().unwrap_or(&empty), &mut reply.body)
                    .await;
                crate::proxy::guardrails::report(
                    &state.ops,
                    &call_id,
                    &identity,
                    &ctx.records[before..],
                );
                if let Some(ev) = &mut event {
                    ev.guardrails = ctx.records.clone();
                }
                if let Err(err) = checked {
                    // The call was made (and is paid for); its reply is not given out.
                    let (prompt, completion) = usage_of(&reply.body);
                    if let Some(p) = &mut permit {
                        p.record_usage(prompt, completion);
                    }
                    drop(permit);
                    if let Some(mut ev) = event.take() {
                        ev.model_id = info.model_id.clone();
                        ev.provider = reply.provider.clone();
                        ev.cost = cost;
                        ev.prompt_tokens = prompt;
                        ev.completion_tokens = completion;
                        ev.status = err.status.as_u16();
                        ev.duration = started.elapsed();
                        ops::finish(&state, ev);
                    }
                    return error_response(err, Some(&call_id));
                }
            }
            let bytes = match serde_json::to_vec(&reply.body) {
                Ok(b) => b,
                Err(e) => {
                    return error_response(
                        ProxyError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "internal_server_error",
                            format!("the reply could not be encoded: {e}"),
                        ),
                        Some(&call_id),
                    )
                }
            };
            let total_ms = ms_since(started);
            let mut response = match family {
                // Speech answers with the audio itself, in the provider's media type.
                Family::Speech => match crate::providers::speech::audio_of(&reply.body) {
                    Some((audio, media_type)) => super::audio::audio_response(audio, &media_type),
                    None => {
                        return error_response(
                            ProxyError::new(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "internal_server_error",
                                "the speech reply holds no audio",
                            ),
                            Some(&call_id),
                        )
                    }
                },
                // The text formats answer plain text, as OpenAI does (the openai SDK
                // returns it as a str).
                Family::Transcription if text_format => super::audio::text_response(&reply.body),
                // A file's content is its bytes.
                Family::Files(crate::files::FilesOp::FileContent) => {
                    match crate::providers::speech::audio_of(&reply.body) {
                        Some((bytes, media_type)) => {
                            super::audio::audio_response(bytes, &media_type)
                        }
                        None => super::json_response(bytes),
                    }
                }
                _ => super::json_response(bytes),
            };
            let mut headroom = None;
            if let Some(p) = &mut permit {
                let (prompt, completion) = usage_of(&reply.body);
                p.record_usage(prompt, completion);
                p.apply_headers(response.headers_mut());
                headroom = Some(p.remaining());
            }
            drop(permit);
            call_headers(
                &call_id,
                &info,
                &reply.api_base,
                Some(total_ms),
                total_ms - reply.response_ms,
                cost,
            )
            .apply(response.headers_mut());
            if let Some(mut ev) = event.take() {
                let (prompt, completion) = usage_of(&reply.body);
                ev.model_id = info.model_id.clone();
                ev.provider = reply.provider.clone();
                ev.cost = cost;
                ev.prompt_tokens = prompt;
                ev.completion_tokens = completion;
                ev.cache_hit = info.cache_hit;
                ev.duration = started.elapsed();
                ev.llm_api_duration = (!info.cache_hit)
                    .then(|| {
                        std::time::Duration::try_from_secs_f64(reply.response_ms / 1000.0).ok()
                    })
                    .flatten();
                ev.rate_limit_remaining = headroom;
                ops::finish(&state, ev);
            }
            response
        }
        Err(e) => {
            // A failed call used no tokens: the reservation is given back.
            if let Some(p) = &mut permit {
                p.record_usage(0, 0);
            }
            drop(permit);
            let err = ProxyError::from_llm(&e);
            if let Some(mut ev) = event.take() {
                ev.status = err.status.as_u16();
                ev.duration = started.elapsed();
                ops::finish(&state, ev);
            }
            error_response(err, Some(&call_id))
        }
    }
}

fn usage_of(body: &Map<String, Value>) -> (u64, u64) {
    body.get("usage")
        .and_then(crate::catalogue::cost::TokenUsage::from_json)
        .map(|u| (u.prompt_tokens, u.completion_tokens))
        .unwrap_or((0, 0))
}

fn call_headers<'a>(
    call_id: &'a str,
    info: &'a RouteInfo,
    api_base: &'a str,
    response_ms: Option<f64>,
    overhead_ms: f64,
    cost: Option<f64>,
) -> CallHeaders<'a> {
    CallHeaders {
        call_id,
        model_id: (!info.cache_hit).then_some(info.model_id.as_str()),
        model_group: Some(&info.model_group),
        api_base: Some(api_base),
        response_cost: cost,
        response_ms,
        overhead_ms: Some(overhead_ms),
        attempted_retries: Some(info.attempted_retries),
        attempted_fallbacks: Some(info.attempted_fallbacks),
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_stream(
    state: Arc<AppState>,
    started: std::time::Instant,
    call_id: String,
    body: Map<String, Value>,
    family: Family,
    permit: Option<crate::proxy::limits::Permit>,
    event: Option<SpendEvent>,
    key_hash: Option<Arc<str>>,
    guards: Option<crate::proxy::guardrails::RequestGuardrails>,
    identity: crate::proxy::auth::Identity,
) -> Response {
    // The request as sent, for post-call guardrails of a class (they see both).
    let request = guards
        .as_ref()
        .filter(|g| g.needs_request())
        .map(|_| body.clone());
    let result = state
        .router
        .route_with(stream_call_type(family), body, true, None, None, |merged| {
            open_once(family, merged)
        })
        .await;
    let (open, guard, info) = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(mut p) = permit {
                p.record_usage(0, 0);
            }
            let err = ProxyError::from_llm(&e);
            if let Some(mut ev) = event {
                ev.status = err.status.as_u16();
                ev.duration = started.elapsed();
                ops::finish(&state, ev);
            }
            // Nothing was sent yet: a plain JSON error with its status, as LiteLLM does.
            return error_response(err, Some(&call_id));
        }
    };
    let overhead = ms_since(started) - open.reply.response_ms;
    let headers = call_headers(&call_id, &info, &open.reply.api_base, None, overhead, None);
    let spend = event.map(|mut ev| {
        ev.model_id = info.model_id.clone();
        ev.provider = open.reply.provider.clone();
        let prices = state
            .prices
            .get(&info.model_id)
            .cloned()
            .unwrap_or_default();
        (
            state.clone(),
            StreamSpend {
                sink_event: ev,
                started,
                before_call: std::time::Duration::try_from_secs_f64(overhead.max(0.0) / 1000.0)
                    .unwrap_or_default(),
                prices,
            },
        )
    });
    let style = match family {
        Family::Text => Style::Text,
        Family::Responses => Style::Responses,
        Family::Messages => Style::Anthropic,
        _ => Style::Chat,
    };
    let mut limit_headers = axum::http::HeaderMap::new();
    if let Some(p) = &permit {
        p.apply_headers(&mut limit_headers);
    }
    let mut chunks = open.chunks;
    let mut late = None;
    if let Some(ctx) = guards.filter(|g| g.after_call()) {
        // Post-call records of a stream go to the log, the audit log and, when the
        // stream ends, its spend row (begun with the pre-call ones).
        let (ops, id) = (Arc::clone(&state.ops), call_id.clone());
        let records = crate::proxy::sse::LateRecords::default();
        late = Some(Arc::clone(&records));
        let on_records: crate::proxy::guardrails::stream::OnRecords = Box::new(move |r| {
            crate::proxy::guardrails::report(&ops, &id, &identity, &r);
            records.lock().unwrap_or_else(|e| e.into_inner()).extend(r);
        });
        chunks = crate::proxy::guardrails::stream::wrap(chunks, ctx, style, request, on_records);
    }
    let mut sse = SseBody::new(chunks, style, Some(guard), permit, spend);
    if let Some(late) = late {
        sse = sse.with_late_records(late);
    }
    if family == Family::Responses {
        sse = sse.pin_responses_to(info.model_id.clone(), key_hash);
    }
    let mut response = Body::from_stream(sse).into_response();
    let h = response.headers_mut();
    h.extend(limit_headers);
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    // Reverse proxies (nginx) must pass each event on at once.
    h.insert(
        axum::http::HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    headers.apply(h);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn prompts_go_to_completions_for_the_openai_family_and_chat_elsewhere() {
        let (kind, m) =
            text_target(obj(json!({"model": "openai/my-model", "prompt": "hi"}))).unwrap();
        assert_eq!(kind, Endpointkind::TextCompletion);
        assert_eq!(m["model"], json!("text-completion-openai/my-model"));
        assert_eq!(m["prompt"], json!("hi"));
        let (kind, m) = text_target(obj(
            json!({"model": "openai/gpt-4o", "prompt": "hi", "echo": true}),
        ))
        .unwrap();
        assert_eq!(kind, Endpointkind::Chat);
        assert_eq!(m["messages"], json!([{"role": "user", "content": "hi"}]));
        assert!(!m.contains_key("prompt") && !m.contains_key("echo"));
        let (kind, _) = text_target(obj(
            json!({"model": "anthropic/claude-3-5-sonnet", "prompt": ["hi"]}),
        ))
        .unwrap();
        assert_eq!(kind, Endpointkind::Chat);
        assert!(text_target(obj(json!({"model": "anthropic/c", "prompt": ["a", "b"]}))).is_err());
    }

    #[test]
    fn chat_replies_become_text_completions() {
        let body = obj(json!({"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hey"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}));
        let out = text_body(body);
        assert_eq!(out["object"], json!("text_completion"));
        assert_eq!(
            out["choices"],
            json!([{"text": "hey", "index": 0, "logprobs": null, "finish_reason": "stop"}])
        );
        assert_eq!(out["usage"]["total_tokens"], json!(2));
        let already = obj(json!({"object": "text_completion", "choices": [{"text": "a"}]}));
        assert_eq!(text_body(already.clone()), already);
    }
}
