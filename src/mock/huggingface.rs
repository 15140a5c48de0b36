//! Hugging Face's feature extraction as the mock speaks it (`POST
//! .../pipeline/feature-extraction` with `{"inputs": text or [texts]}`): a list of
//! vectors, one per text. Chat on the router is OpenAI's and needs nothing here.

use serde_json::{json, Map, Value};

use super::openai::Reject;

pub(crate) fn is_feature_extraction(path: &str) -> bool {
    path.ends_with("/pipeline/feature-extraction")
}

/// The list of vectors for the texts of `req`.
pub(crate) fn feature_extraction(path: &str, req: &Map<String, Value>) -> Result<Value, Reject> {
    let model = path
        .split_once("/models/")
        .and_then(|(_, rest)| rest.strip_suffix("/pipeline/feature-extraction"))
        .unwrap_or("feature-extraction");
    let Some(inputs) = req.get("inputs") else {
        return Err((
            400,
            json!({"error": "Failed to deserialize the JSON body into the target type: missing field `inputs`"}),
        ));
    };
    let mut openai = Map::new();
    openai.insert("model".into(), json!(model));
    openai.insert("input".into(), inputs.clone());
    let reply = super::openai::embeddings(&openai)
        .map_err(|(status, body)| (status, json!({"error": body.pointer("/error/message")})))?;
    let vectors: Vec<Value> = reply
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| d.get("embedding").cloned().unwrap_or(Value::Null))
        .collect();
    Ok(Value::Array(vectors))
}
