//! The bundled model map (LiteLLM's `model_prices_and_context_window.json`): context
//! windows, prices and capability flags per model, plus the models registered at run time.
//!
//! build.rs indexes the map at compile time (the map's names in file order, sorted for
//! binary search and lower-cased for the case-insensitive fallback, each entry's JSON)
//! and the library embeds the tables. An entry is parsed the first time one of its names is
//! asked for (a few microseconds) and kept; nothing else is built at run time, so neither
//! `import rustllm` nor the first priced reply pays for the map's other ~5,000 models
//! (parsed whole, the map cost the first reply ~30 ms and ~23 MB).
//!
//! Name resolution follows LiteLLM's `get_model_info`: the name is tried as
//! `provider/model`, as given, without its provider prefix, and with version or date
//! suffixes stripped, and an entry only counts when its `litellm_provider` agrees with the
//! provider the name resolves to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::{Map, Value};

/// One model's facts, as the map spells them (`max_input_tokens`, `input_cost_per_token`,
/// `litellm_provider`, `mode`, `supports_*`, ...).
pub type Entry = Map<String, Value>;

/// Strings stored end to end, as build.rs writes them: string `i` is
/// `text[starts[i]..starts[i + 1]]`. Offsets rather than tables of `&str`: those would be
/// ~15,000 pointers for the loader to relocate, into private memory, at every
/// `import rustllm`.
struct Strings {
    text: &'static str,
    starts: &'static [u32],
}

impl Strings {
    fn get(&self, i: usize) -> Option<&'static str> {
        let start = *self.starts.get(i)?;
        let end = *self.starts.get(i + 1)?;
        self.text.get(start as usize..end as usize)
    }

    fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        (0..self.starts.len().saturating_sub(1)).filter_map(|i| self.get(i))
    }

    /// The index of the string equal to `key`, given `sorted`, every index in string order.
    fn find(&self, sorted: &[u32], key: &str) -> Option<usize> {
        let at = sorted
            .binary_search_by(|&i| self.get(i as usize).cmp(&Some(key)))
            .ok()?;
        sorted.get(at).map(|&i| i as usize)
    }
}

/// The catalogue's tables (`ENTRY_COUNT`, `ENTRIES`, `NAMES`, `NAME_ENTRY`, `BY_NAME`,
/// `LOWERCASE`, `BY_LOWERCASE`, `CAPABILITY_KEYS`), built by build.rs from the two files
/// beside this one. `model_prices.json` is the map as LiteLLM ships it, refreshed with
/// `make catalogue`. `legacy_models.json` holds the models LiteLLM 1.75.8 knew that the map
/// dropped: OpenAI and Azure ones (old snapshots such as `gpt-3.5-turbo-0613`, Azure's
/// `gpt-35-turbo-16k`) and every bare name it resolved without a prefix
/// (`claude-3-5-sonnet-20240620`, `gemini-1.5-pro`), since a bare name routes only when
/// listed there or in the map. The map's entries win. Refreshed with
/// `scripts/legacy_models.py`.
mod tables {
    use super::Strings;
    include!(concat!(env!("OUT_DIR"), "/model_tables.rs"));
}

/// The bundled entries parsed so far, by entry index.
struct BundledEntries {
    /// `None` for an entry whose JSON does not parse (none: build.rs wrote it from a parsed
    /// object), so that it is not tried again.
    parsed: [OnceLock<Option<Arc<Entry>>>; tables::ENTRY_COUNT],
}

impl BundledEntries {
    const fn new() -> Self {
        Self {
            parsed: [const { OnceLock::new() }; tables::ENTRY_COUNT],
        }
    }

    /// The entry of the `i`th name in `tables::NAMES`, parsed on first use. The names of
    /// one entry (an alias and its target) share it: one parse, one `Arc`.
    fn entry_of(&self, i: usize) -> Option<Arc<Entry>> {
        let index = *tables::NAME_ENTRY.get(i)? as usize;
        self.parsed
            .get(index)?
            .get_or_init(|| {
                let json = tables::ENTRIES.get(index)?;
                serde_json::from_str(json).ok().map(Arc::new)
            })
            .clone()
    }

    /// The entry stored under exactly `name`.
    fn exact(&self, name: &str) -> Option<Arc<Entry>> {
        self.entry_of(tables::NAMES.find(tables::BY_NAME, name)?)
    }

    /// The name the lower-cased name `lower` resolves to case-insensitively, and its entry.
    fn lowercase(&self, lower: &str) -> Option<(&'static str, Arc<Entry>)> {
        let name = tables::LOWERCASE.find(tables::BY_LOWERCASE, lower)?;
        Some((tables::NAMES.get(name)?, self.entry_of(name)?))
    }

    fn any_parsed(&self) -> bool {
        self.parsed.iter().any(|e| e.get().is_some())
    }
}

/// Models added or overridden with `register_model`. They win over the bundled entries.
#[derive(Default)]
struct Registered {
    order: Vec<String>,
    entries: HashMap<String, Arc<Entry>>,
    lowercase: HashMap<String, String>,
}

static BUNDLED: BundledEntries = BundledEntries::new();
static REGISTERED: RwLock<Option<Registered>> = RwLock::new(None);
/// Lets lookups skip the lock entirely until someone registers a model.
static HAS_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether any bundled entry has been parsed yet (each is parsed on first use only).
pub fn is_loaded() -> bool {
    BUNDLED.any_parsed()
}

fn with_registered<T>(f: impl FnOnce(&Registered) -> Option<T>) -> Option<T> {
    if !HAS_REGISTERED.load(Ordering::Acquire) {
        return None;
    }
    let guard = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    guard.as_ref().and_then(f)
}

/// The entry stored under exactly `name` (registered models first).
pub fn entry_exact(name: &str) -> Option<Arc<Entry>> {
    with_registered(|r| r.entries.get(name).cloned()).or_else(|| BUNDLED.exact(name))
}

/// The key and entry for `name`: exact first, then case-insensitively, as LiteLLM's
/// `get_model_cost_key` does.
pub fn find_key(name: &str) -> Option<(String, Arc<Entry>)> {
    if let Some(e) = entry_exact(name) {
        return Some((name.to_string(), e));
    }
    let lower = name.to_lowercase();
    if let Some(found) = with_registered(|r| {
        r.lowercase
            .get(&lower)
            .and_then(|k| r.entries.get(k).map(|e| (k.clone(), e.clone())))
    }) {
        return Some(found);
    }
    BUNDLED.lowercase(&lower).map(|(k, e)| (k.to_string(), e))
}

/// Every model name, bundled ones in file order, then newly registered ones.
pub fn names() -> Vec<String> {
    let mut out: Vec<String> = tables::NAMES.iter().map(str::to_string).collect();
    with_registered(|r| {
        out.extend(
            r.order
                .iter()
                .filter(|k| tables::NAMES.find(tables::BY_NAME, k).is_none())
                .cloned(),
        );
        Some(())
    });
    out
}

/// Every `(name, entry)` pair, in [`names`] order, registered entries winning.
pub fn all_entries() -> Vec<(String, Arc<Entry>)> {
    names()
        .into_iter()
        .filter_map(|k| entry_exact(&k).map(|e| (k, e)))
        .collect()
}

/// LiteLLM turns stringified numbers in registered entries into numbers ("3e-07" from a
/// YAML config), so prices given as strings still price.
fn numeric(v: Value) -> Value {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let parsed = if t.contains(['e', 'E', '.']) {
                t.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            } else {
                t.parse::<i64>().ok().map(Value::from)
            };
            parsed.unwrap_or(Value::String(s))
        }
        other => other,
    }
}

/// LiteLLM's `register_model` for one model: the fields are merged into the entry the name
/// already resolves to (stored under that entry's key), or form a new entry. `None`
/// values are ignored. Returns the key the entry is stored under.
pub fn register(name: &str, fields: Entry) -> String {
    let existing = lookup(name, None);
    let (key, mut entry) = match existing {
        Some(m) => (m.key, (*m.entry).clone()),
        None => (name.to_string(), Entry::new()),
    };
    for (k, v) in fields {
        if !v.is_null() {
            entry.insert(k, numeric(v));
        }
    }
    let mut guard = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    let reg = guard.get_or_insert_with(Registered::default);
    if !reg.entries.contains_key(&key) {
        reg.order.push(key.clone());
    }
    reg.lowercase.insert(key.to_lowercase(), key.clone());
    reg.entries.insert(key.clone(), Arc::new(entry));
    HAS_REGISTERED.store(true, Ordering::Release);
    drop(guard);
    *LOOKUPS.write().unwrap_or_else(|e| e.into_inner()) = None;
    key
}

/// The provider LiteLLM gives a bare model name (no `provider/` prefix) from the map: the
/// name must be a key whose `litellm_provider` is one of the families LiteLLM routes
/// without a prefix (OpenAI, Anthropic, Cohere, Vertex AI, Bedrock, ...). `gemini/...`,
/// `groq/...` and most others need their prefix.
pub fn bare_name_provider(model: &str) -> Option<&'static str> {
    let entry = entry_exact(model)?;
    let provider = entry.get("litellm_provider")?.as_str()?;
    Some(match provider {
        "openai" => "openai",
        "text-completion-openai" => "text-completion-openai",
        "anthropic" if model == "claude-2" || model == "claude-instant-1" => "anthropic_text",
        "anthropic" => "anthropic",
        "cohere" => "cohere",
        "cohere_chat" => "cohere_chat",
        "replicate" => "replicate",
        "openrouter" => "openrouter",
        "maritalk" => "maritalk",
        "vertex_ai-text-models"
        | "vertex_ai-code-text-models"
        | "vertex_ai-language-models"
        | "vertex_ai-vision-models"
        | "vertex_ai-chat-models"
        | "vertex_ai-code-chat-models"
        | "vertex_ai-embedding-models"
        | "vertex_ai-image-models"
        | "vertex_ai-video-models" => "vertex_ai",
        "ai21" => "ai21_chat",
        "aleph_alpha" => "aleph_alpha",
        "baseten" => "baseten",
        "nlp_cloud" => "nlp_cloud",
        "petals" => "petals",
        "bedrock" | "bedrock_converse" => "bedrock",
        "watsonx" => "watsonx",
        "empower" => "empower",
        "gradient_ai" => "gradient_ai",
        _ => return None,
    })
}

/// Whether an entry may serve a call to `provider` (LiteLLM's `_check_provider_match`).
fn provider_matches(entry: &Entry, provider: Option<&str>) -> bool {
    let (Some(wanted), Some(listed)) = (
        provider.filter(|p| !p.is_empty()),
        entry.get("litellm_provider").and_then(Value::as_str),
    ) else {
        return true;
    };
    listed == wanted
        || (wanted == "vertex_ai" && listed.starts_with("vertex_ai"))
        || (wanted == "fireworks_ai" && listed.starts_with("fireworks_ai"))
        || (wanted.starts_with("bedrock") && listed.starts_with("bedrock"))
        // A proxy serves whatever model it fronts.
        || wanted == "litellm_proxy"
        || (wanted == "azure_ai" && (listed == "azure" || listed == "openai"))
        || wanted == "github"
}

/// Regions Bedrock accepts as a cross-region inference prefix (`us.anthropic.claude-...`).
const BEDROCK_CROSS_REGION: &[&str] = &["global", "us", "eu", "apac", "jp", "au", "us-gov"];

/// Bedrock's base model id: routing, region and version-throughput decorations removed.
fn bedrock_base_model(model: &str) -> &str {
    let mut m = model;
    for prefix in ["bedrock/converse/", "bedrock/", "converse/"] {
        if let Some(rest) = m.strip_prefix(prefix) {
            m = rest;
            break;
        }
    }
    if m.contains("arn:") {
        m = m.rsplit('/').next().unwrap_or(m);
    }
    if let Some((region, rest)) = m.split_once('.') {
        if BEDROCK_CROSS_REGION.contains(&region) {
            return rest;
        }
    }
    if let Some((region, rest)) = m.split_once('/') {
        // AWS regions look like `us-east-1`, `ap-northeast-1`.
        let looks_like_region = region.matches('-').count() >= 2
            && region.chars().last().is_some_and(|c| c.is_ascii_digit());
        if looks_like_region {
            return rest;
        }
    }
    m
}

/// `name-<digits>` -> `name` (Vertex/Gemini stable versions: `gemini-1.5-pro-002`).
fn strip_numeric_suffix(model: &str) -> &str {
    match model.rsplit_once('-') {
        Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => model,
    }
}

/// `name-YYYY-MM-DD` -> `name` (dated snapshots: `gpt-4o-2024-08-06` prices as `gpt-4o`).
fn strip_dated_suffix(model: &str) -> &str {
    let b = model.as_bytes();
    if b.len() < 11 {
        return model;
    }
    let tail = &b[b.len() - 11..];
    let shape_ok = tail[0] == b'-'
        && tail[5] == b'-'
        && tail[8] == b'-'
        && [1, 2, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| tail[i].is_ascii_digit());
    if shape_ok {
        &model[..model.len() - 11]
    } else {
        model
    }
}

/// `ft:gpt-4o:my-org:suffix:id` -> `ft:gpt-4o` (OpenAI fine-tunes price as their base).
fn strip_finetune(model: &str) -> &str {
    let mut end = model.len();
    for _ in 0..3 {
        match model[..end].rfind(':') {
            Some(i) => end = i,
            None => return model,
        }
    }
    &model[..end]
}

/// LiteLLM's `_strip_model_name`.
fn strip_model_name<'a>(model: &'a str, provider: Option<&str>) -> &'a str {
    match provider {
        Some("bedrock" | "bedrock_converse") => bedrock_base_model(model),
        Some("vertex_ai" | "gemini" | "databricks") => strip_numeric_suffix(model),
        _ if model.contains("ft:") => strip_finetune(model),
        _ => strip_dated_suffix(model),
    }
}

/// A model name resolved in the map.
#[derive(Debug, Clone)]
pub struct ModelMatch {
    /// The map key that matched (`get_model_info(...)["key"]`).
    pub key: String,
    pub entry: Arc<Entry>,
    /// The provider the name resolved to, when one could be determined.
    pub provider: Option<String>,
}

/// The names LiteLLM tries for `model`, in its order: `provider/model`, the name as given,
/// the name without its prefix, then the stripped forms.
fn candidate_names(
    model: &str,
    custom_llm_provider: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let (split, combined, stripped, combined_stripped, provider);
    match custom_llm_provider.filter(|p| !p.is_empty()) {
        None => {
            let resolved = crate::providers::provider_for_lookup(model, None).ok();
            provider = resolved.as_ref().map(|r| r.1.clone());
            split = resolved.map(|r| r.0).unwrap_or_else(|| model.to_string());
            combined = model.to_string();
            stripped = strip_model_name(model, provider.as_deref()).to_string();
            combined_stripped = stripped.clone();
        }
        Some(p) => {
            provider = Some(p.to_string());
            match model.strip_prefix(p).and_then(|m| m.strip_prefix('/')) {
                Some(rest) => {
                    split = rest.to_string();
                    combined = model.to_string();
                    stripped = strip_model_name(rest, Some(p)).to_string();
                }
                None => {
                    split = model.to_string();
                    combined = format!("{p}/{model}");
                    stripped = strip_model_name(model, Some(p)).to_string();
                }
            }
            combined_stripped = format!("{p}/{stripped}");
        }
    }
    let mut names = Vec::with_capacity(5);
    for n in [
        combined,
        model.to_string(),
        split,
        combined_stripped,
        stripped,
    ] {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    (names, provider)
}

/// LiteLLM's `_get_model_info_helper`: the first candidate name whose entry exists and
/// belongs to the resolved provider. `None` for a model the map does not know.
pub fn lookup(model: &str, custom_llm_provider: Option<&str>) -> Option<ModelMatch> {
    if model.is_empty() {
        return None;
    }
    // Every reply is priced by the model it names: remember the answers (the candidate
    // names and case-insensitive probes cost ~10k instructions a call).
    let key = (model.to_string(), custom_llm_provider.map(str::to_string));
    if let Some(found) = LOOKUPS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&key))
    {
        return found.clone();
    }
    let found = lookup_uncached(model, custom_llm_provider);
    let mut memo = LOOKUPS.write().unwrap_or_else(|e| e.into_inner());
    let memo = memo.get_or_insert_with(HashMap::new);
    if memo.len() >= MAX_REMEMBERED_LOOKUPS {
        memo.clear(); // many distinct names: start over rather than grow without bound
    }
    memo.insert(key, found.clone());
    found
}

/// Remembered `lookup` answers, forgotten whenever a model is registered.
type LookupMemo = HashMap<(String, Option<String>), Option<ModelMatch>>;
static LOOKUPS: RwLock<Option<LookupMemo>> = RwLock::new(None);
const MAX_REMEMBERED_LOOKUPS: usize = 4096;

fn lookup_uncached(model: &str, custom_llm_provider: Option<&str>) -> Option<ModelMatch> {
    // LiteLLM's `azure_llms` / `azure_embedding_models`: Azure's own spellings, known bare.
    let model = match model {
        "gpt-35-turbo" => "azure/gpt-35-turbo",
        "gpt-35-turbo-16k" => "azure/gpt-35-turbo-16k",
        "gpt-35-turbo-instruct" => "azure/gpt-35-turbo-instruct",
        "ada" => "azure/ada",
        other => other,
    };
    let custom = match custom_llm_provider {
        Some("vertex_ai_beta") => Some("vertex_ai"),
        other => other,
    };
    let (names, provider) = candidate_names(model, custom);
    names.iter().find_map(|name| {
        let (key, entry) = find_key(name)?;
        provider_matches(&entry, provider.as_deref()).then(|| ModelMatch {
            key,
            entry,
            provider: provider.clone(),
        })
    })
}

/// A numeric field of an entry (numeric strings count, as LiteLLM reads them).
pub fn number(entry: &Entry, key: &str) -> Option<f64> {
    match entry.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A capability flag: `Some(true/false)` when the entry states it.
pub fn flag(entry: &Entry, key: &str) -> Option<bool> {
    entry.get(key).and_then(Value::as_bool)
}

/// LiteLLM's `supports_*` helpers: `true` only when the entry says so. The provider is
/// resolved first (prefix removed); a flag the provider-prefixed entry leaves unstated is
/// read from the bare name's entry. Unknown models and unstated flags are `false`, never
/// an error.
pub fn supports(model: &str, custom_llm_provider: Option<&str>, key: &str) -> bool {
    let Ok((split, provider)) = crate::providers::provider_for_lookup(model, custom_llm_provider)
    else {
        return false;
    };
    let Some(found) = lookup(&split, Some(&provider)) else {
        return false;
    };
    flag(&found.entry, key)
        .or_else(|| find_key(&split).and_then(|(_, e)| flag(&e, key)))
        .unwrap_or(false)
}

/// The OpenAI chat parameters LiteLLM passes to OpenAI-compatible providers.
const OPENAI_CHAT_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
];

/// The OpenAI parameters LiteLLM translates for Anthropic.
const ANTHROPIC_PARAMS: &[&str] = &[
    "stream",
    "stop",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "extra_headers",
    "parallel_tool_calls",
    "response_format",
    "user",
    "web_search_options",
];

/// OpenAI's reasoning models (o1, o3, o4-mini, ...): no sampling penalties or logprobs.
const O_SERIES_PARAMS: &[&str] = &[
    "logit_bias",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "audio",
    "web_search_options",
    "response_format",
];

/// Azure OpenAI deployments (LiteLLM's AzureOpenAIConfig list, duplicates removed).
const AZURE_PARAMS: &[&str] = &[
    "temperature",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "function_call",
    "functions",
    "top_p",
    "logprobs",
    "top_logprobs",
    "response_format",
    "seed",
    "extra_headers",
    "parallel_tool_calls",
    "prediction",
    "modalities",
    "audio",
    "web_search_options",
];

/// Gemini (Google AI Studio).
const GEMINI_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "tools",
    "tool_choice",
    "functions",
    "response_format",
    "n",
    "stop",
    "logprobs",
    "frequency_penalty",
    "modalities",
    "parallel_tool_calls",
    "web_search_options",
];

/// Gemini on Vertex AI.
const VERTEX_GEMINI_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "tools",
    "functions",
    "tool_choice",
    "response_format",
    "n",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "extra_headers",
    "seed",
    "logprobs",
    "top_logprobs",
    "modalities",
    "parallel_tool_calls",
    "web_search_options",
];

const OLLAMA_PARAMS: &[&str] = &[
    "max_tokens",
    "stream",
    "top_p",
    "temperature",
    "seed",
    "frequency_penalty",
    "stop",
    "response_format",
    "max_completion_tokens",
];

const OLLAMA_CHAT_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "top_p",
    "temperature",
    "seed",
    "frequency_penalty",
    "stop",
    "tools",
    "tool_choice",
    "functions",
    "response_format",
];

const COHERE_PARAMS: &[&str] = &[
    "stream",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "n",
    "tools",
    "tool_choice",
    "seed",
    "extra_headers",
];

/// Bedrock Converse, for every model family; tools are added per family.
const BEDROCK_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "stop",
    "temperature",
    "top_p",
    "extra_headers",
    "response_format",
];

/// `o1`, `o3-mini`, `o4-mini-2025-04-16`, ...: OpenAI's reasoning models.
fn is_o_series(model: &str) -> bool {
    ["o1", "o3", "o4"].iter().any(|p| {
        model
            .strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    })
}

/// LiteLLM's `get_supported_openai_params`: the OpenAI parameters a call to `model` may
/// carry (reference 1.75.8). OpenAI-compatible providers take the OpenAI chat list
/// (`response_format` except on `gpt-4`, `user` for OpenAI's own models; the o-series its
/// reduced list plus `reasoning_effort`); Anthropic, Azure, Gemini, Vertex AI, Ollama,
/// Cohere and Bedrock the lists LiteLLM translates for them (plus `thinking` /
/// `reasoning_effort` on reasoning models). `None` when the provider cannot be determined
/// or rustllm has no adapter for it.
pub fn supported_openai_params(
    model: &str,
    custom_llm_provider: Option<&str>,
) -> Option<Vec<&'static str>> {
    let (split, provider) =
        crate::providers::provider_for_lookup(model, custom_llm_provider).ok()?;
    let reasoning = || supports(&split, Some(&provider), "supports_reasoning");
    let claude_params = |reasoning: bool| {
        let mut params = ANTHROPIC_PARAMS.to_vec();
        if split.contains("claude-3-7-sonnet") || reasoning {
            params.extend(["thinking", "reasoning_effort"]);
        }
        params
    };
    // o1-mini and o1-preview predate tools and structured output.
    let o_series = |extra: &[&'static str], user: bool| {
        let tools = !(split.starts_with("o1-mini") || split.starts_with("o1-preview"));
        let mut params: Vec<&'static str> = O_SERIES_PARAMS
            .iter()
            .copied()
            .filter(|p| {
                tools
                    || !matches!(
                        *p,
                        "tools" | "tool_choice" | "function_call" | "functions" | "response_format"
                    )
            })
            .collect();
        params.extend_from_slice(extra);
        if user {
            params.push("user");
        }
        params.push("reasoning_effort");
        params
    };
    let with_reasoning = |base: &[&'static str]| {
        let mut params = base.to_vec();
        if reasoning() {
            params.extend(["reasoning_effort", "thinking"]);
        }
        params
    };
    match provider.as_str() {
        "anthropic" => return Some(claude_params(reasoning())),
        "azure" if is_o_series(&split) => return Some(o_series(&["parallel_tool_calls"], false)),
        "azure" => return Some(AZURE_PARAMS.to_vec()),
        "gemini" => return Some(with_reasoning(GEMINI_PARAMS)),
        "vertex_ai" if split.contains("claude") => return Some(claude_params(reasoning())),
        "vertex_ai" => return Some(with_reasoning(VERTEX_GEMINI_PARAMS)),
        "ollama" => return Some(OLLAMA_PARAMS.to_vec()),
        "ollama_chat" => return Some(OLLAMA_CHAT_PARAMS.to_vec()),
        "cohere" | "cohere_chat" => return Some(COHERE_PARAMS.to_vec()),
        "bedrock" => {
            let mut params = BEDROCK_PARAMS.to_vec();
            if split.contains("anthropic.") {
                params.extend(["tools", "tool_choice"]);
            } else if split.contains("amazon.nova") {
                params.push("tools");
            }
            return Some(params);
        }
        _ => {}
    }
    crate::providers::compatible(&provider)?;
    let mut params = OPENAI_CHAT_PARAMS.to_vec();
    if split != "gpt-3.5-turbo-16k" && split != "gpt-4" {
        params.push("response_format");
    }
    // Only OpenAI's own models take `user` (other OpenAI-compatible servers may reject it).
    let openai_model = entry_exact(&split)
        .and_then(|e| {
            e.get("litellm_provider")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .is_some_and(|p| p == "openai" || p == "text-completion-openai");
    if provider == "openai" && is_o_series(&split) {
        return Some(o_series(&[], openai_model));
    }
    if openai_model {
        params.push("user");
    }
    Some(params)
}

/// Fields `get_model_info` always reports, with their value when the entry is silent.
const INFO_DEFAULTS: &[&str] = &[
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "input_cost_per_second",
    "output_cost_per_second",
    "output_cost_per_reasoning_token",
    "litellm_provider",
    "mode",
];

/// LiteLLM's `get_model_info`: the entry plus `key`, every `supports_*` flag (`null` when
/// the entry is silent) and `supported_openai_params`. `Err` carries LiteLLM's text for a
/// model the map does not know.
pub fn model_info(model: &str, custom_llm_provider: Option<&str>) -> Result<Entry, String> {
    let Some(found) = lookup(model, custom_llm_provider) else {
        let provider = match custom_llm_provider {
            Some(p) => Some(p.to_string()),
            None => crate::providers::provider_for_lookup(model, None)
                .ok()
                .map(|r| r.1),
        };
        return Err(not_mapped(model, provider.as_deref()));
    };
    let e = &found.entry;
    let mut info = Entry::new();
    info.insert("key".into(), Value::String(found.key.clone()));
    for (k, v) in e.iter() {
        info.insert(k.clone(), v.clone());
    }
    for k in INFO_DEFAULTS {
        if !info.contains_key(*k) {
            let v = match *k {
                // LiteLLM: the output limit, else the context window.
                "max_tokens" => e
                    .get("max_output_tokens")
                    .filter(|v| !v.is_null())
                    .or_else(|| e.get("max_input_tokens"))
                    .cloned()
                    .unwrap_or(Value::Null),
                // LiteLLM prices a model without prices at 0 rather than failing.
                "input_cost_per_token" | "output_cost_per_token" => Value::from(0),
                "litellm_provider" => found.provider.clone().map_or(Value::Null, Value::String),
                _ => Value::Null,
            };
            info.insert((*k).to_string(), v);
        }
    }
    for k in capability_keys() {
        if !info.contains_key(k) {
            info.insert(k.clone(), Value::Null);
        }
    }
    let params = supported_openai_params(model, custom_llm_provider)
        .map(|p| Value::Array(p.into_iter().map(Value::from).collect()))
        .unwrap_or(Value::Null);
    info.insert("supported_openai_params".into(), params);
    Ok(info)
}

/// LiteLLM's `get_max_tokens`: the model's `max_output_tokens`. The name is tried as
/// given, then without its provider prefix; a name found without an output limit is
/// `Ok(None)`, a name not found is `Err` with LiteLLM's text.
pub fn max_tokens(model: &str) -> Result<Option<u64>, String> {
    let read = |e: &Entry| {
        e.get("max_output_tokens")
            .and_then(Value::as_u64)
            .or_else(|| e.get("max_tokens").and_then(Value::as_u64))
    };
    if let Some(limit) = entry_exact(model).and_then(|e| read(&e)) {
        return Ok(Some(limit));
    }
    let split = crate::providers::provider_for_lookup(model, None)
        .ok()
        .map(|(m, _)| m);
    match split.and_then(|m| entry_exact(&m)) {
        Some(e) => Ok(read(&e)),
        None => Err(format!(
            "Model {model} isn't mapped yet. Add it here - https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
        )),
    }
}

/// Every `supports_*` flag some entry in the map states, sorted: `get_model_info` reports
/// each of them (None when the model's entry is silent).
pub fn capability_keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        tables::CAPABILITY_KEYS
            .iter()
            .map(|k| k.to_string())
            .collect()
    })
}

/// The message LiteLLM raises for a model the catalogue does not know (`get_model_info`,
/// `cost_per_token`).
pub fn not_mapped(model: &str, provider: Option<&str>) -> String {
    format!(
        "This model isn't mapped yet. model={model}, custom_llm_provider={}. Add it here - https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json.",
        provider.unwrap_or("None")
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn key_of(model: &str, provider: Option<&str>) -> Option<String> {
        lookup(model, provider).map(|m| m.key)
    }

    /// The bundled map as models.rs built it at run time before build.rs indexed it,
    /// kept as the reference the build-time tables must reproduce.
    struct ReferenceBundled {
        order: Vec<String>,
        entries: HashMap<String, Arc<Entry>>,
        lowercase: HashMap<String, String>,
    }

    fn reference_parse_bundled() -> ReferenceBundled {
        const NOT_MODELS: &[&str] = &["fallback_generalizations"];
        let raw: Map<String, Value> =
            serde_json::from_str(include_str!("model_prices.json")).unwrap_or_default();
        let mut order = Vec::with_capacity(raw.len());
        let mut entries = HashMap::with_capacity(raw.len());
        let mut aliases: Vec<(String, String)> = Vec::new();
        for (name, value) in raw {
            if NOT_MODELS.contains(&name.as_str()) {
                continue;
            }
            let Value::Object(mut entry) = value else {
                continue;
            };
            if let Some(target) = entry.get("alias_of").and_then(Value::as_str) {
                aliases.push((name, target.to_string()));
                continue;
            }
            if let Some(Value::Array(list)) = entry.remove("aliases") {
                for alias in list.iter().filter_map(Value::as_str) {
                    aliases.push((alias.to_string(), name.clone()));
                }
            }
            order.push(name.clone());
            entries.insert(name, Arc::new(entry));
        }
        let legacy: Map<String, Value> =
            serde_json::from_str(include_str!("legacy_models.json")).unwrap_or_default();
        for (name, value) in legacy {
            if let (false, false, Value::Object(entry)) =
                (name.starts_with('_'), entries.contains_key(&name), value)
            {
                order.push(name.clone());
                entries.insert(name, Arc::new(entry));
            }
        }
        for (alias, target) in aliases {
            if entries.contains_key(&alias) {
                continue;
            }
            if let Some(entry) = entries.get(&target).cloned() {
                order.push(alias.clone());
                entries.insert(alias, entry);
            }
        }
        let lowercase = order
            .iter()
            .map(|k| (k.to_lowercase(), k.clone()))
            .collect();
        ReferenceBundled {
            order,
            entries,
            lowercase,
        }
    }

    #[test]
    fn build_time_tables_serve_what_the_run_time_parse_served() {
        let want = reference_parse_bundled();
        assert!(want.order.len() > 1000);
        let got = BundledEntries::new();
        // every name, in the same order
        assert_eq!(tables::NAMES.iter().collect::<Vec<_>>(), want.order);
        // every entry, its keys in the same order; the names of one entry share it
        let mut index_of: HashMap<*const Entry, u32> = HashMap::new();
        for (i, name) in want.order.iter().enumerate() {
            let entry = &want.entries[name];
            let json = |e: &Entry| serde_json::to_string(e).unwrap_or_default();
            assert_eq!(
                got.exact(name).map(|e| json(&e)),
                Some(json(entry)),
                "{name}"
            );
            let index = tables::NAME_ENTRY[i];
            assert_eq!(
                *index_of.entry(Arc::as_ptr(entry)).or_insert(index),
                index,
                "{name}"
            );
        }
        let distinct: HashSet<u32> = index_of.values().copied().collect();
        assert_eq!(index_of.len(), tables::ENTRY_COUNT);
        assert_eq!(distinct.len(), tables::ENTRY_COUNT);
        // every lower-case form resolves to the same name (the last in order with it)
        for (lower, name) in &want.lowercase {
            assert_eq!(got.lowercase(lower).map(|(k, _)| k), Some(name.as_str()));
        }
        assert_eq!(tables::BY_LOWERCASE.len(), want.lowercase.len());
        // names not in the map
        assert!(got.exact("fallback_generalizations").is_none());
        assert!(got.exact("_source").is_none());
        assert!(got.exact("no-such-model").is_none() && got.exact("").is_none());
        assert!(got.lowercase("no-such-model").is_none());
        // every supports_* key
        let mut keys: Vec<String> = want
            .entries
            .values()
            .flat_map(|e| e.keys().filter(|k| k.starts_with("supports_")).cloned())
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(capability_keys(), keys);
    }

    #[test]
    fn resolving_a_name_parses_its_entry_only() {
        let bundled = BundledEntries::new();
        assert!(!bundled.any_parsed());
        let gpt = bundled.exact("gpt-4o");
        assert!(gpt
            .as_ref()
            .is_some_and(|e| e.contains_key("input_cost_per_token")));
        let parsed = |b: &BundledEntries| b.parsed.iter().filter(|e| e.get().is_some()).count();
        assert_eq!(parsed(&bundled), 1);
        // the case-insensitive fallback finds the same entry, parsed once
        let upper = bundled.lowercase("gpt-4o");
        assert!(upper.is_some_and(|(k, e)| {
            k == "gpt-4o" && gpt.as_ref().is_some_and(|g| Arc::ptr_eq(g, &e))
        }));
        assert_eq!(parsed(&bundled), 1);
        // an alias and its target: one parse, one Arc
        let alias = bundled.exact("azure_ai/gpt-astra-latest");
        let target = bundled.exact("azure_ai/gpt-6-astra");
        assert!(alias.is_some_and(|a| target.is_some_and(|t| Arc::ptr_eq(&a, &t))));
        assert_eq!(parsed(&bundled), 2);
        assert!(lookup("gpt-4o", None).is_some() && is_loaded());
    }

    #[test]
    fn bare_and_prefixed_names_resolve_like_litellm() {
        assert_eq!(key_of("gpt-4o", None).as_deref(), Some("gpt-4o"));
        assert_eq!(key_of("openai/gpt-4o", None).as_deref(), Some("gpt-4o"));
        assert_eq!(key_of("gpt-4o", Some("openai")).as_deref(), Some("gpt-4o"));
        assert_eq!(
            key_of("deepseek/deepseek-chat", None).as_deref(),
            Some("deepseek/deepseek-chat")
        );
        assert_eq!(
            key_of("deepseek-chat", Some("deepseek")).as_deref(),
            Some("deepseek/deepseek-chat")
        );
        // dated snapshots fall back to their family's entry when not listed themselves
        assert_eq!(key_of("gpt-4o-2099-01-01", None).as_deref(), Some("gpt-4o"));
        // case-insensitive fallback
        assert_eq!(key_of("GPT-4o", Some("openai")).as_deref(), Some("gpt-4o"));
        assert_eq!(key_of("no-such-model-xyz", None), None);
        assert_eq!(key_of("openai/no-such-model-xyz", None), None);
        assert_eq!(key_of("", None), None);
    }

    #[test]
    fn an_entry_of_another_provider_does_not_count() {
        // gpt-4o is an OpenAI entry; asked for as a groq model it is unknown.
        assert_eq!(key_of("gpt-4o", Some("groq")), None);
        // a proxy fronts any model
        assert_eq!(
            key_of("gpt-4o", Some("litellm_proxy")).as_deref(),
            Some("gpt-4o")
        );
    }

    #[test]
    fn name_stripping() {
        assert_eq!(strip_dated_suffix("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(strip_dated_suffix("gpt-4o"), "gpt-4o");
        assert_eq!(strip_dated_suffix("x-2024-8-06"), "x-2024-8-06");
        assert_eq!(
            strip_finetune("ft:gpt-4o:my-org:custom:abc123"),
            "ft:gpt-4o"
        );
        assert_eq!(
            strip_finetune("ft:gpt-4o-2024-08-06:org::id"),
            "ft:gpt-4o-2024-08-06"
        );
        assert_eq!(strip_numeric_suffix("gemini-1.5-pro-002"), "gemini-1.5-pro");
        assert_eq!(
            bedrock_base_model("us.meta.llama3-2-11b-instruct-v1:0"),
            "meta.llama3-2-11b-instruct-v1:0"
        );
        assert_eq!(
            bedrock_base_model("bedrock/us-east-1/anthropic.claude-v2"),
            "anthropic.claude-v2"
        );
    }

    #[test]
    fn bare_names_get_the_family_provider() {
        assert_eq!(bare_name_provider("gpt-4o"), Some("openai"));
        assert_eq!(
            bare_name_provider("gpt-3.5-turbo-instruct"),
            Some("text-completion-openai")
        );
        assert_eq!(bare_name_provider("command-r-08-2024"), Some("cohere_chat"));
        assert_eq!(bare_name_provider("gemini-2.5-pro"), Some("vertex_ai"));
        assert_eq!(
            bare_name_provider("claude-haiku-4-5-20251001"),
            Some("anthropic")
        );
        // prefixed keys are not bare names
        assert_eq!(bare_name_provider("mistral-large-latest"), None);
        assert_eq!(bare_name_provider("nope"), None);
    }

    #[test]
    fn supports_and_max_tokens() {
        assert!(supports("gpt-4o", None, "supports_function_calling"));
        assert!(supports("openai/gpt-4o", None, "supports_vision"));
        assert!(!supports(
            "no-such-model",
            None,
            "supports_function_calling"
        ));
        assert!(!supports("text-embedding-3-small", None, "supports_vision"));
        assert_eq!(max_tokens("gpt-4o"), Ok(Some(16384)));
        assert!(max_tokens("no-such-model")
            .err()
            .is_some_and(|e| e.starts_with("Model no-such-model isn't mapped yet")));
        assert!(capability_keys().iter().any(|k| k == "supports_vision"));
    }

    #[test]
    fn model_info_reports_the_entry_key_and_every_flag() {
        let info = model_info("openai/gpt-4o", None).unwrap_or_default();
        assert_eq!(info.get("key"), Some(&Value::from("gpt-4o")));
        assert_eq!(info.get("max_tokens"), Some(&Value::from(16384)));
        assert_eq!(info.get("litellm_provider"), Some(&Value::from("openai")));
        assert_eq!(
            info.get("supports_function_calling"),
            Some(&Value::Bool(true))
        );
        // a flag no gpt-4o field states is reported as null
        let silent = capability_keys()
            .iter()
            .find(|k| !info.get(*k).is_some_and(Value::is_boolean));
        assert!(silent.is_some_and(|k| info.get(k) == Some(&Value::Null)));
        let params = info
            .get("supported_openai_params")
            .and_then(Value::as_array);
        assert!(params.is_some_and(|p| p.contains(&Value::from("tools"))));
        let err = model_info("my-custom-model", None).err();
        assert_eq!(
            err.as_deref(),
            Some("This model isn't mapped yet. model=my-custom-model, custom_llm_provider=None. Add it here - https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json.")
        );
        let err = model_info("openai/not-a-model", None).err();
        assert!(err.is_some_and(|e| e.contains("custom_llm_provider=openai.")));
    }

    #[test]
    fn supported_params_by_provider() {
        let gpt = supported_openai_params("gpt-4o", None).unwrap_or_default();
        assert_eq!(gpt.len(), OPENAI_CHAT_PARAMS.len() + 2);
        assert_eq!(gpt.last(), Some(&"user"));
        let gpt4 = supported_openai_params("gpt-4", None).unwrap_or_default();
        assert!(!gpt4.contains(&"response_format"));
        let groq = supported_openai_params("groq/some-model", None).unwrap_or_default();
        assert!(groq.contains(&"response_format") && !groq.contains(&"user"));
        let claude =
            supported_openai_params("claude-haiku-4-5", Some("anthropic")).unwrap_or_default();
        assert_eq!(&claude[..ANTHROPIC_PARAMS.len()], ANTHROPIC_PARAMS);
        assert_eq!(supported_openai_params("my-custom-model", None), None);
    }

    #[test]
    fn supported_params_of_adapter_providers_and_o_series() {
        let params = |m: &str| supported_openai_params(m, None).unwrap_or_default();
        assert_eq!(params("ollama/llama3"), OLLAMA_PARAMS);
        assert_eq!(params("ollama_chat/llama3"), OLLAMA_CHAT_PARAMS);
        assert_eq!(params("cohere/command-r"), COHERE_PARAMS);
        assert_eq!(params("azure/my-deployment"), AZURE_PARAMS);
        assert_eq!(&params("gemini/gemini-1.5-pro")[..], GEMINI_PARAMS);
        assert!(params("vertex_ai/claude-3-5-sonnet").starts_with(ANTHROPIC_PARAMS));
        let nova = params("bedrock/amazon.nova-pro-v1:0");
        assert!(nova.contains(&"tools") && !nova.contains(&"tool_choice"));
        let o3 = params("o3-mini");
        assert!(o3.contains(&"reasoning_effort") && !o3.contains(&"top_p"));
        assert!(!params("o1-mini").contains(&"tools"));
        assert!(params("azure/o3-mini").contains(&"parallel_tool_calls"));
        assert!(!is_o_series("omni-moderation") && is_o_series("o4-mini-2025-04-16"));
    }

    #[test]
    fn registering_adds_and_overrides() {
        // A name no other test uses, so parallel tests are unaffected.
        let mut fields = Entry::new();
        fields.insert("input_cost_per_token".into(), Value::from("2e-06"));
        fields.insert("litellm_provider".into(), Value::from("openai"));
        fields.insert("mode".into(), Value::Null);
        let key = register("unit-test-registered-model", fields);
        assert_eq!(key, "unit-test-registered-model");
        let m = lookup("unit-test-registered-model", None);
        let e = m.map(|m| m.entry);
        assert_eq!(
            e.as_ref().and_then(|e| number(e, "input_cost_per_token")),
            Some(2e-6)
        );
        assert!(e.is_some_and(|e| !e.contains_key("mode")));
        assert!(names().iter().any(|n| n == "unit-test-registered-model"));
        // merging keeps the other fields
        let mut more = Entry::new();
        more.insert("output_cost_per_token".into(), Value::from(1e-6));
        register("unit-test-registered-model", more);
        let e = entry_exact("unit-test-registered-model");
        assert_eq!(
            e.as_ref().and_then(|e| number(e, "input_cost_per_token")),
            Some(2e-6)
        );
        assert_eq!(
            e.as_ref().and_then(|e| number(e, "output_cost_per_token")),
            Some(1e-6)
        );
        assert_eq!(
            bare_name_provider("unit-test-registered-model"),
            Some("openai")
        );
    }
}
