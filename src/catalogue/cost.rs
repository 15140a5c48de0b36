//! What a call cost, from its token usage and the model's catalogue prices (LiteLLM's
//! `cost_per_token` / `completion_cost`).
//!
//! Prompt tokens served from the provider's cache are billed at the cache-read price and
//! tokens written to it at the cache-write price (each falling back to the input price);
//! reasoning tokens are billed at the output price unless the model has a reasoning
//! price; a model priced per second is billed by the response time. Prices the caller
//! passes (`input_cost_per_token=...`) win over the catalogue.

use serde_json::Value;

use super::models::{self, not_mapped, number, Entry};

/// The token counts that decide a cost, read from an OpenAI-format `usage` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// All prompt tokens, cached ones included (OpenAI counts them inside).
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens read from the provider's prompt cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's prompt cache (Anthropic).
    pub cache_creation_tokens: u64,
    /// Completion tokens spent on reasoning (part of `completion_tokens`).
    pub reasoning_tokens: u64,
}

fn count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f > 0.0).map(|f| f as u64))
            .unwrap_or(0),
        _ => 0,
    }
}

impl TokenUsage {
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        TokenUsage {
            prompt_tokens,
            completion_tokens,
            ..TokenUsage::default()
        }
    }

    /// Read a `usage` object as OpenAI, Anthropic-through-LiteLLM and DeepSeek send it.
    /// `None` when it is not an object.
    pub fn from_json(usage: &Value) -> Option<Self> {
        let u = usage.as_object()?;
        let prompt_details = u.get("prompt_tokens_details");
        let completion_details = u.get("completion_tokens_details");
        let prompt_tokens = match u.get("prompt_tokens") {
            Some(v @ Value::Number(_)) => count(Some(v)),
            _ => count(u.get("input_tokens")),
        };
        let completion_tokens = match u.get("completion_tokens") {
            Some(v @ Value::Number(_)) => count(Some(v)),
            _ => count(u.get("output_tokens")),
        };
        let cache_read_tokens = [
            prompt_details.and_then(|d| d.get("cached_tokens")),
            u.get("cache_read_input_tokens"),
            u.get("prompt_cache_hit_tokens"),
        ]
        .into_iter()
        .map(count)
        .find(|n| *n > 0)
        .unwrap_or(0);
        let cache_creation_tokens = [
            u.get("cache_creation_input_tokens"),
            prompt_details.and_then(|d| d.get("cache_creation_tokens")),
        ]
        .into_iter()
        .map(count)
        .find(|n| *n > 0)
        .unwrap_or(0);
        let reasoning_tokens = count(completion_details.and_then(|d| d.get("reasoning_tokens")));
        Some(TokenUsage {
            prompt_tokens,
            completion_tokens,
            cache_read_tokens,
            cache_creation_tokens,
            reasoning_tokens,
        })
    }
}

/// Prices the caller passes with a call or to `cost_per_token`; each one set wins over the
/// catalogue.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CustomPrices {
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    pub input_cost_per_second: Option<f64>,
    pub output_cost_per_second: Option<f64>,
    /// A rerank's price per search (a proxy deployment's `input_cost_per_query`).
    pub input_cost_per_query: Option<f64>,
}

impl CustomPrices {
    pub fn is_empty(&self) -> bool {
        *self == CustomPrices::default()
    }
}

/// The price key for prompts above a size, when the entry has tiered prices: the
/// `_above_<N>k_tokens` suffix of the largest threshold the prompt exceeds.
fn tier_suffix(entry: &Entry, prompt_tokens: u64) -> Option<String> {
    entry
        .keys()
        .filter_map(|k| {
            let t = k
                .strip_prefix("input_cost_per_token_above_")?
                .strip_suffix("_tokens")?;
            let (digits, scale) = match t.strip_suffix('k') {
                Some(d) => (d, 1000.0),
                None => (t, 1.0),
            };
            let threshold = digits.parse::<f64>().ok()? * scale;
            ((prompt_tokens as f64) > threshold).then(|| (threshold, format!("_above_{t}_tokens")))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, suffix)| suffix)
}

/// `(prompt_cost, completion_cost)` for `usage` at `entry`'s prices.
/// `response_time_ms` prices models billed per second.
pub fn entry_cost(entry: &Entry, usage: &TokenUsage, response_time_ms: Option<f64>) -> (f64, f64) {
    let tier = tier_suffix(entry, usage.prompt_tokens);
    let price = |base: &str| {
        tier.as_ref()
            .and_then(|t| number(entry, &format!("{base}{t}")))
            .or_else(|| number(entry, base))
    };
    let input = price("input_cost_per_token").unwrap_or(0.0);
    let output = price("output_cost_per_token").unwrap_or(0.0);
    let seconds = response_time_ms.map(|ms| ms / 1000.0);

    let prompt_cost = match (input > 0.0, number(entry, "input_cost_per_second"), seconds) {
        (false, Some(per_second), Some(s)) => per_second * s,
        _ => {
            let cached = usage.cache_read_tokens;
            let written = usage.cache_creation_tokens;
            let uncached = usage.prompt_tokens.saturating_sub(cached + written);
            let read_price = price("cache_read_input_token_cost").unwrap_or(input);
            let write_price = price("cache_creation_input_token_cost").unwrap_or(input);
            uncached as f64 * input + cached as f64 * read_price + written as f64 * write_price
        }
    };
    let completion_cost = match (
        output > 0.0,
        number(entry, "output_cost_per_second"),
        seconds,
    ) {
        (false, Some(per_second), Some(s)) => per_second * s,
        _ => match number(entry, "output_cost_per_reasoning_token") {
            Some(reasoning_price) if usage.reasoning_tokens > 0 => {
                let reasoning = usage.reasoning_tokens.min(usage.completion_tokens);
                (usage.completion_tokens - reasoning) as f64 * output
                    + reasoning as f64 * reasoning_price
            }
            _ => usage.completion_tokens as f64 * output,
        },
    };
    (prompt_cost, completion_cost)
}

/// LiteLLM's `cost_per_token`: `(prompt_cost, completion_cost)` in USD.
///
/// Custom prices win, each on its own side; with both token prices given the model need
/// not be in the catalogue. A model the catalogue does not know is an `Err` with
/// LiteLLM's text.
pub fn cost_per_token(
    model: &str,
    custom_llm_provider: Option<&str>,
    usage: &TokenUsage,
    response_time_ms: Option<f64>,
    custom: &CustomPrices,
) -> Result<(f64, f64), String> {
    let flat_in = custom
        .input_cost_per_token
        .map(|p| p * usage.prompt_tokens as f64);
    let flat_out = custom
        .output_cost_per_token
        .map(|p| p * usage.completion_tokens as f64)
        .or_else(|| {
            custom
                .output_cost_per_second
                .zip(response_time_ms)
                .map(|(p, ms)| p * ms / 1000.0)
        });
    let flat_in = flat_in.or_else(|| {
        custom
            .input_cost_per_second
            .zip(response_time_ms)
            .map(|(p, ms)| p * ms / 1000.0)
    });
    if let (Some(i), Some(o)) = (flat_in, flat_out) {
        return Ok((i, o));
    }
    let found = models::lookup(model, custom_llm_provider);
    let (prompt, completion) = match &found {
        Some(m) => entry_cost(&m.entry, usage, response_time_ms),
        // One custom side given for an unknown model: the other side is unpriced.
        None if !custom.is_empty() => (0.0, 0.0),
        None => return Err(not_mapped(model, custom_llm_provider)),
    };
    Ok((flat_in.unwrap_or(prompt), flat_out.unwrap_or(completion)))
}

/// The cost of one reply for `_hidden_params["response_cost"]`: the model the provider
/// reported is tried first (it may name the exact snapshot), then the model requested.
/// `None` when neither is in the catalogue and no custom prices were passed.
pub fn response_cost(
    models_to_try: &[&str],
    provider: &str,
    usage: &Value,
    response_time_ms: Option<f64>,
    custom: &CustomPrices,
) -> Option<f64> {
    let usage = TokenUsage::from_json(usage)?;
    let provider = Some(provider).filter(|p| !p.is_empty());
    models_to_try
        .iter()
        .filter(|m| !m.is_empty())
        .find_map(|m| {
            models::lookup(m, provider)
                .map(|found| entry_cost(&found.entry, &usage, response_time_ms))
        })
        .map(|(p, c)| {
            let p = custom
                .input_cost_per_token
                .map_or(p, |price| price * usage.prompt_tokens as f64);
            let c = custom
                .output_cost_per_token
                .map_or(c, |price| price * usage.completion_tokens as f64);
            p + c
        })
        .or_else(|| {
            let (i, o) = (custom.input_cost_per_token?, custom.output_cost_per_token?);
            Some(i * usage.prompt_tokens as f64 + o * usage.completion_tokens as f64)
        })
}

/// `(input, output)` price per token for a model, from the catalogue (the Router's
/// cost-based routing orders deployments by these).
pub fn prices(model: &str) -> Option<(f64, f64)> {
    let found = models::lookup(model, None)?;
    Some((
        number(&found.entry, "input_cost_per_token").unwrap_or(0.0),
        number(&found.entry, "output_cost_per_token").unwrap_or(0.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(v: Value) -> Entry {
        match v {
            Value::Object(m) => m,
            _ => Entry::new(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 + 1e-9 * b.abs()
    }

    #[test]
    fn gpt_4o_prices_as_litellm_does() {
        let none = CustomPrices::default();
        let (p, c) = cost_per_token("gpt-4o", None, &TokenUsage::new(1000, 1000), None, &none)
            .unwrap_or_default();
        assert!(close(p, 0.0025) && close(c, 0.01), "{p} {c}");
        // LiteLLM's mock reply: 10 prompt + 20 completion tokens.
        let (p, c) = cost_per_token("openai/gpt-4o", None, &TokenUsage::new(10, 20), None, &none)
            .unwrap_or_default();
        assert!(close(p + c, 2.25e-4));
        let err = cost_per_token("no-such-model", None, &TokenUsage::new(1, 1), None, &none);
        assert!(
            err.is_err_and(|e| e.starts_with("This model isn't mapped yet. model=no-such-model"))
        );
    }

    #[test]
    fn cached_prompt_tokens_use_the_cache_prices() {
        let e = entry(json!({
            "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
            "cache_read_input_token_cost": 1e-7, "cache_creation_input_token_cost": 1.25e-6
        }));
        let usage = TokenUsage::from_json(&json!({
            "prompt_tokens": 1000, "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 600},
            "cache_creation_input_tokens": 100
        }))
        .unwrap_or_default();
        assert_eq!(usage.cache_read_tokens, 600);
        assert_eq!(usage.cache_creation_tokens, 100);
        let (p, c) = entry_cost(&e, &usage, None);
        assert!(
            close(p, 300.0 * 1e-6 + 600.0 * 1e-7 + 100.0 * 1.25e-6),
            "{p}"
        );
        assert!(close(c, 10.0 * 2e-6));
        // without cache prices, cached tokens cost the input price
        let plain = entry(json!({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}));
        let (p, _) = entry_cost(&plain, &usage, None);
        assert!(close(p, 1000.0 * 1e-6));
    }

    #[test]
    fn reasoning_tokens_and_per_second_prices() {
        let usage = TokenUsage::from_json(&json!({
            "prompt_tokens": 0, "completion_tokens": 100,
            "completion_tokens_details": {"reasoning_tokens": 40}
        }))
        .unwrap_or_default();
        let same = entry(json!({"output_cost_per_token": 1e-6}));
        assert!(close(entry_cost(&same, &usage, None).1, 100.0 * 1e-6));
        let own =
            entry(json!({"output_cost_per_token": 1e-6, "output_cost_per_reasoning_token": 3e-6}));
        assert!(close(
            entry_cost(&own, &usage, None).1,
            60.0 * 1e-6 + 40.0 * 3e-6
        ));
        let per_second =
            entry(json!({"input_cost_per_second": 0.01, "output_cost_per_second": 0.02}));
        let (p, c) = entry_cost(&per_second, &TokenUsage::new(5, 5), Some(1500.0));
        assert!(close(p, 0.015) && close(c, 0.03));
        assert_eq!(
            entry_cost(&per_second, &TokenUsage::new(5, 5), None),
            (0.0, 0.0)
        );
    }

    #[test]
    fn tiered_prices_apply_above_their_threshold() {
        let e = entry(json!({
            "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
            "input_cost_per_token_above_200k_tokens": 2e-6, "output_cost_per_token_above_200k_tokens": 4e-6
        }));
        assert!(close(
            entry_cost(&e, &TokenUsage::new(1000, 10), None).0,
            1e-3
        ));
        let (p, c) = entry_cost(&e, &TokenUsage::new(300_000, 10), None);
        assert!(close(p, 0.6) && close(c, 4e-5));
    }

    #[test]
    fn custom_prices_win() {
        let both = CustomPrices {
            input_cost_per_token: Some(1.0),
            output_cost_per_token: Some(2.0),
            ..CustomPrices::default()
        };
        let usage = TokenUsage::new(3, 4);
        assert_eq!(
            cost_per_token("unknown-x", None, &usage, None, &both),
            Ok((3.0, 8.0))
        );
        assert_eq!(
            cost_per_token("gpt-4o", None, &usage, None, &both),
            Ok((3.0, 8.0))
        );
        let input_only = CustomPrices {
            input_cost_per_token: Some(1.0),
            ..CustomPrices::default()
        };
        let (p, c) = cost_per_token("gpt-4o", None, &usage, None, &input_only).unwrap_or_default();
        assert!(close(p, 3.0) && close(c, 4.0 * 1e-5));
        let body_usage = json!({"prompt_tokens": 3, "completion_tokens": 4});
        assert_eq!(
            response_cost(&["unknown-x"], "openai", &body_usage, None, &both),
            Some(11.0)
        );
        assert_eq!(
            response_cost(
                &["unknown-x"],
                "openai",
                &body_usage,
                None,
                &CustomPrices::default()
            ),
            None
        );
    }

    #[test]
    fn response_cost_tries_the_reported_model_then_the_requested_one() {
        let usage = json!({"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30});
        let none = CustomPrices::default();
        let c = response_cost(&["not-a-snapshot", "gpt-4o"], "openai", &usage, None, &none);
        assert!(c.is_some_and(|c| close(c, 2.25e-4)));
        assert_eq!(
            response_cost(&["gpt-4o"], "openai", &json!(null), None, &none),
            None
        );
        assert!(prices("gpt-4o").is_some_and(|(i, o)| close(i, 2.5e-6) && close(o, 1e-5)));
        assert_eq!(prices("no-such-model"), None);
    }
}
