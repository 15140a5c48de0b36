//! The mock's image generation answer (`POST .../images/generations`, OpenAI's and
//! Azure's deployment URLs alike).
//!
//! `n` images (default 1), each a `url` under `https://images.mock.invalid/` or, with
//! `response_format="b64_json"` or a gpt-image model (which always answer in base64), a
//! `b64_json` of a tiny fixed PNG; dall-e-3 adds a `revised_prompt`. gpt-image models
//! also report `usage` (the prompt's words as text tokens, 272 output tokens an image,
//! OpenAI's count for a low-quality square), as OpenAI does.

use serde_json::{json, Map, Value};

use super::openai::{error_body, Reject};

/// A 1x1 transparent PNG, base64: what every mock `b64_json` image holds.
pub(crate) const PIXEL_PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

fn bad_request(message: &str, param: &str) -> Reject {
    (
        400,
        error_body(message, "invalid_request_error", Some(param), None),
    )
}

/// An images answer for `req`.
/// An image edit's answer (`POST .../images/edits`, multipart): the request's `image`
/// (a file, or a list under `image[]`) is required; then answered as a generation, `n`
/// read from its text field.
pub(crate) fn edit(req: &Map<String, Value>, id: u64, created: u64) -> Result<Value, Reject> {
    let has_image = match req.get("image") {
        Some(Value::Object(_)) => true,
        Some(Value::Array(images)) => !images.is_empty() && images.iter().all(Value::is_object),
        _ => false,
    };
    if !has_image {
        return Err(bad_request(
            "'image' is a required property (a file part).",
            "image",
        ));
    }
    let mut req = req.clone();
    if let Some(n) = req
        .get("n")
        .and_then(Value::as_str)
        .and_then(|n| n.parse::<u64>().ok())
    {
        req.insert("n".into(), Value::from(n));
    }
    generation(&req, id, created)
}

pub(crate) fn generation(req: &Map<String, Value>, id: u64, created: u64) -> Result<Value, Reject> {
    let prompt = match req.get("prompt") {
        Some(Value::String(p)) if !p.is_empty() => p,
        _ => return Err(bad_request("'prompt' is a required property.", "prompt")),
    };
    let n = match req.get("n") {
        None | Some(Value::Null) => 1,
        Some(n) => match n.as_u64() {
            Some(n @ 1..=10) => n,
            _ => return Err(bad_request("'n' must be between 1 and 10.", "n")),
        },
    };
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("dall-e-2");
    let gpt_image = model.starts_with("gpt-image");
    let b64 = gpt_image || req.get("response_format").and_then(Value::as_str) == Some("b64_json");
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let mut image = Map::new();
            if b64 {
                image.insert("b64_json".into(), json!(PIXEL_PNG_B64));
            } else {
                image.insert(
                    "url".into(),
                    json!(format!("https://images.mock.invalid/{id}-{i}.png")),
                );
            }
            if model.starts_with("dall-e-3") {
                image.insert(
                    "revised_prompt".into(),
                    json!(format!("A picture: {prompt}")),
                );
            }
            Value::Object(image)
        })
        .collect();
    let mut body = json!({"created": created, "data": data});
    if gpt_image {
        let text = prompt.split_whitespace().count() as u64;
        body["usage"] = json!({
            "input_tokens": text,
            "output_tokens": 272 * n,
            "total_tokens": text + 272 * n,
            "input_tokens_details": {"text_tokens": text, "image_tokens": 0},
        });
        for key in ["size", "quality"] {
            if let Some(v) = req.get(key) {
                body[key] = v.clone();
            }
        }
    }
    Ok(body)
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
    fn answers_n_urls_or_base64_and_refuses_bad_requests() {
        let v = generation(
            &req(json!({"model": "dall-e-3", "prompt": "a cat", "n": 2})),
            7,
            1,
        )
        .unwrap_or_default();
        assert_eq!(v["data"][1]["url"], "https://images.mock.invalid/7-1.png");
        assert_eq!(v["data"][0]["revised_prompt"], "A picture: a cat");
        let v = generation(
            &req(json!({"model": "gpt-image-1", "prompt": "a b c"})),
            1,
            1,
        )
        .unwrap_or_default();
        assert_eq!(v["data"][0]["b64_json"], PIXEL_PNG_B64);
        assert_eq!(v["usage"]["input_tokens"], 3);
        assert!(generation(&req(json!({"prompt": ""})), 1, 1).is_err());
        assert!(generation(&req(json!({"prompt": "x", "n": 0})), 1, 1).is_err());
    }
}
