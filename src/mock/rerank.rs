//! The mock's rerank (`POST .../rerank`) and moderation (`POST .../moderations`) answers.
//!
//! Rerank speaks the dialect the request asks for: Cohere v2 at `/v2/rerank` (no
//! documents echoed), Jina for `jina*` models, Voyage for Voyage's models (`rerank-2`,
//! `rerank-lite-1`, `voyage*`: results in `data`, `usage`), and Cohere v1 otherwise
//! (`/v1/rerank`, `{base}/rerank`). A document's relevance is the share of the query's
//! words it contains (rounded to 1/1024, so replies compare exactly), ties kept in input
//! order. A moderation flags `violence` when an input says "kill" or "hurt".

use serde_json::{json, Map, Value};

use super::openai::{error_body, words, Reject};

fn bad_request(message: &str, param: &str) -> Reject {
    (
        400,
        error_body(message, "invalid_request_error", Some(param), None),
    )
}

fn word_set(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The text of a document: a string, the `rank_fields` of a dict (else its `text`, else
/// the whole dict as JSON).
fn document_text(doc: &Value, rank_fields: Option<&Vec<Value>>) -> String {
    match doc {
        Value::String(s) => s.clone(),
        Value::Object(m) => match rank_fields {
            Some(fields) => fields
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|f| m.get(f))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" "),
            None => m
                .get("text")
                .and_then(Value::as_str)
                .map_or_else(|| doc.to_string(), str::to_string),
        },
        other => other.to_string(),
    }
}

fn is_voyage(model: &str) -> bool {
    model.starts_with("voyage")
        || model.strip_prefix("rerank-").is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_digit()) || rest.starts_with("lite")
        })
}

/// A rerank answer for `req` arriving at `path`.
pub(crate) fn rerank(path: &str, req: &Map<String, Value>, id: u64) -> Result<Value, Reject> {
    let model = req.get("model").and_then(Value::as_str).unwrap_or_default();
    let Some(query) = req.get("query").and_then(Value::as_str) else {
        return Err(bad_request(
            "'query' is required and must be a string.",
            "query",
        ));
    };
    let docs = match req.get("documents") {
        Some(Value::Array(d)) if !d.is_empty() => d,
        _ => {
            return Err(bad_request(
                "'documents' must be a non-empty array.",
                "documents",
            ))
        }
    };
    let rank_fields = req.get("rank_fields").and_then(Value::as_array);
    let query_words = word_set(query);
    let texts: Vec<String> = docs.iter().map(|d| document_text(d, rank_fields)).collect();
    let mut scored: Vec<(usize, f64)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let doc_words = word_set(text);
            let shared = query_words.iter().filter(|w| doc_words.contains(w)).count();
            let share = shared as f64 / query_words.len().max(1) as f64;
            (i, (share * 1024.0).round() / 1024.0)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = req
        .get("top_n")
        .or_else(|| req.get("top_k"))
        .and_then(Value::as_u64)
        .map_or(scored.len(), |n| n as usize);
    scored.truncate(top);
    let return_documents = req.get("return_documents").and_then(Value::as_bool);
    let tokens: u64 = words(query) + texts.iter().map(|t| words(t)).sum::<u64>();
    let result = |(i, score): &(usize, f64), document: Option<Value>| {
        let mut r = json!({"index": i, "relevance_score": score});
        if let (Some(doc), Value::Object(m)) = (document, &mut r) {
            m.insert("document".into(), doc);
        }
        r
    };
    if path.ends_with("/v2/rerank") {
        let results: Vec<Value> = scored.iter().map(|s| result(s, None)).collect();
        return Ok(json!({
            "id": format!("rerank-{id}"),
            "results": results,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
        }));
    }
    if is_voyage(model) {
        let data: Vec<Value> = scored
            .iter()
            .map(|s| {
                let doc = (return_documents == Some(true)).then(|| json!(texts[s.0]));
                result(s, doc)
            })
            .collect();
        return Ok(json!({
            "object": "list", "data": data, "model": model,
            "usage": {"total_tokens": tokens},
        }));
    }
    // Cohere v1 and Jina echo the documents unless told not to.
    let echoed = |s: &(usize, f64)| {
        let doc = (return_documents != Some(false)).then(|| json!({"text": texts[s.0]}));
        result(s, doc)
    };
    let results: Vec<Value> = scored.iter().map(echoed).collect();
    if model.starts_with("jina") {
        return Ok(json!({
            "model": model, "results": results,
            "usage": {"total_tokens": tokens},
        }));
    }
    Ok(json!({
        "id": format!("rerank-{id}"),
        "results": results,
        "meta": {"api_version": {"version": "1"}, "billed_units": {"search_units": 1}},
    }))
}

/// OpenAI's moderation categories, in its order.
const CATEGORIES: &[&str] = &[
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

/// A moderation answer: one result per input.
pub(crate) fn moderation(req: &Map<String, Value>, id: u64) -> Result<Value, Reject> {
    let inputs: Vec<String> = match req.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect(),
        _ => {
            return Err(bad_request(
                "'input' must be a string or a non-empty array.",
                "input",
            ))
        }
    };
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("omni-moderation-latest");
    let results: Vec<Value> = inputs
        .iter()
        .map(|text| {
            let words = word_set(text);
            let violent = words.iter().any(|w| w == "kill" || w == "hurt");
            let mut categories = Map::new();
            let mut scores = Map::new();
            let mut applied = Map::new();
            for c in CATEGORIES {
                let hit = violent && *c == "violence";
                categories.insert((*c).into(), Value::Bool(hit));
                scores.insert((*c).into(), json!(if hit { 0.875 } else { 0.0001 }));
                applied.insert((*c).into(), json!(["text"]));
            }
            json!({
                "flagged": violent,
                "categories": categories,
                "category_scores": scores,
                "category_applied_input_types": applied,
            })
        })
        .collect();
    Ok(json!({"id": format!("modr-{id}"), "model": model, "results": results}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn each_dialect_answers_in_its_shape() {
        let body = |model: &str| {
            req(
                json!({"model": model, "query": "cat dog", "documents": ["a cat", "a dog and a cat", "x"], "top_n": 2}),
            )
        };
        let v2 = rerank("/v2/rerank", &body("rerank-v3.5"), 7).unwrap_or_default();
        assert_eq!(
            v2["results"],
            json!([{"index": 1, "relevance_score": 1.0}, {"index": 0, "relevance_score": 0.5}])
        );
        assert_eq!(v2["id"], "rerank-7");
        let v1 = rerank("/v1/rerank", &body("rerank-v3.5"), 8).unwrap_or_default();
        assert_eq!(
            v1["results"][0]["document"],
            json!({"text": "a dog and a cat"})
        );
        let jina = rerank("/v1/rerank", &body("jina-reranker-m0"), 9).unwrap_or_default();
        assert!(jina.get("id").is_none() && jina["usage"]["total_tokens"] == 10);
        let voyage = rerank("/v1/rerank", &body("rerank-2"), 10).unwrap_or_default();
        assert_eq!(voyage["data"].as_array().map(Vec::len), Some(2));
        assert!(voyage["data"][0].get("document").is_none());
        let bad = rerank(
            "/v1/rerank",
            &req(json!({"query": "q", "documents": []})),
            1,
        );
        assert_eq!(bad.err().map(|e| e.0), Some(400));
    }

    #[test]
    fn moderation_flags_violence() {
        let v =
            moderation(&req(json!({"input": ["I will hurt it", "hello"]})), 3).unwrap_or_default();
        assert_eq!(v["model"], "omni-moderation-latest");
        assert_eq!(v["results"][0]["flagged"], true);
        assert_eq!(v["results"][0]["categories"]["violence"], true);
        assert_eq!(v["results"][1]["flagged"], false);
        assert!(moderation(&req(json!({"input": []})), 4).is_err());
    }
}
