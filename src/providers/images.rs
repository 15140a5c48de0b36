//! Image generation (`POST {base}/images/generations`): OpenAI's format, which Azure
//! serves on its deployment URLs (`azure.rs` builds those; the body is the same).
//!
//! The reply is OpenAI's `ImagesResponse` (`created`, `data` with `url` or `b64_json`
//! and `revised_prompt`, `usage` for the token-priced gpt-image models), which LiteLLM's
//! `ImageResponse` mirrors. Cost follows LiteLLM's image calculator: per pixel or per
//! image from the catalogue entry named by quality, size and model
//! (`hd/1024-x-1024/dall-e-3`), or per token from `usage` for gpt-image models.

use serde_json::{Map, Value};

use super::{ChatContext, WireFormat};
use crate::catalogue::models::{self, number};
use crate::error::LlmError;

/// Check `prompt` before any request: a non-empty string.
pub fn check_prompt(prompt: Option<&Value>) -> Result<(), LlmError> {
    match prompt {
        Some(Value::String(p)) if !p.trim().is_empty() => Ok(()),
        Some(Value::String(_)) => Err(LlmError::bad_request(
            "image_generation: prompt must not be empty",
        )),
        None | Some(Value::Null) => Err(LlmError::bad_request(
            "image_generation: prompt is required (a string)",
        )),
        Some(_) => Err(LlmError::bad_request(
            "image_generation: prompt must be a string",
        )),
    }
}

/// Check that the provider serves OpenAI's images API (OpenAI-format providers, Azure).
pub fn check_format(provider: &str, format: WireFormat) -> Result<(), LlmError> {
    if matches!(format, WireFormat::OpenAi | WireFormat::Azure) {
        return Ok(());
    }
    Err(LlmError::bad_request(format!(
        "rustllm serves image generation for OpenAI-format providers and Azure (POST .../images/generations), not '{provider}'"
    )))
}

/// Check that the provider generates images: [`check_format`]'s, or an Imagen model on
/// Gemini or Vertex AI (`imagen.rs`).
pub fn check_generation_format(
    provider: &str,
    format: WireFormat,
    model: &str,
) -> Result<(), LlmError> {
    if matches!(format, WireFormat::Gemini | WireFormat::Vertex) {
        if super::imagen::is_imagen(model) {
            return Ok(());
        }
        return Err(LlmError::bad_request(format!(
            "rustllm serves image generation on '{provider}' for Imagen models (imagen-*, imagegeneration@*), not '{model}'; Gemini image models answer through completion()"
        )));
    }
    check_format(provider, format)
}

/// Check an image edit's files before any request: `image` a file or a non-empty list
/// of them, `mask` (optional) a file.
pub fn check_edit_files(image: Option<&Value>, mask: Option<&Value>) -> Result<(), LlmError> {
    use super::multipart::FilePart;
    match image {
        None | Some(Value::Null) => {
            return Err(LlmError::bad_request(
                "image_edit: image is required (an open file, a path, bytes, a (filename, bytes) tuple, or a list of them)",
            ))
        }
        Some(Value::Array(images)) if images.is_empty() => {
            return Err(LlmError::bad_request("image_edit: image must not be an empty list"))
        }
        Some(Value::Array(images)) => {
            for image in images {
                FilePart::from_value(image, "image_edit: image")?;
            }
        }
        Some(image) => {
            FilePart::from_value(image, "image_edit: image")?;
        }
    }
    if let Some(mask) = mask.filter(|m| !m.is_null()) {
        FilePart::from_value(mask, "image_edit: mask")?;
    }
    Ok(())
}

/// Check the parameters OpenAI would refuse, before the request: `n` a positive integer,
/// `size` of the form `WIDTHxHEIGHT` (or `auto`).
pub fn check_params(body: &Map<String, Value>) -> Result<(), LlmError> {
    if let Some(n) = body.get("n").filter(|n| !n.is_null()) {
        if n.as_u64().is_none_or(|n| n < 1) {
            return Err(LlmError::bad_request(format!(
                "image_generation: n must be a positive integer, got {n}"
            )));
        }
    }
    if let Some(size) = body.get("size").filter(|s| !s.is_null()) {
        let ok = size
            .as_str()
            .is_some_and(|s| s == "auto" || dimensions(s).is_some());
        if !ok {
            return Err(LlmError::bad_request(format!(
                "image_generation: size must be \"WIDTHxHEIGHT\" (e.g. \"1024x1024\") or \"auto\", got {size}"
            )));
        }
    }
    Ok(())
}

/// Check an image `response_format`: `"url"` or `"b64_json"`.
pub fn check_response_format(format: &Value) -> Result<(), LlmError> {
    match format.as_str() {
        Some("url" | "b64_json") => Ok(()),
        _ => Err(LlmError::bad_request(format!(
            "image_generation: response_format must be \"url\" or \"b64_json\", got {format}"
        ))),
    }
}

/// `(width, height)` of a `"1024x1792"` size.
fn dimensions(size: &str) -> Option<(u64, u64)> {
    let (w, h) = size.split_once('x')?;
    let w: u64 = w.trim().parse().ok()?;
    let h: u64 = h.trim().parse().ok()?;
    (w > 0 && h > 0).then_some((w, h))
}

/// Check the reply is an images response (a `data` list of objects) and record the
/// requested `size` and `quality` in it when the provider did not (OpenAI's
/// `ImagesResponse` has both fields; dall-e replies leave them out): the cost reads them.
pub fn parse_reply(
    ctx: &ChatContext<'_>,
    request: &Map<String, Value>,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let ok = body
        .get("data")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().all(Value::is_object));
    if !ok {
        return Err(super::malformed_reply(
            ctx,
            "no 'data' list of images",
            &body,
        ));
    }
    for key in ["size", "quality"] {
        if body.get(key).is_none_or(Value::is_null) {
            if let Some(v) = request.get(key).filter(|v| v.is_string()) {
                body.insert(key.into(), v.clone());
            }
        }
    }
    Ok(body)
}

/// Whether a reply body is an images response (what [`cost`] prices).
pub fn is_images_reply(body: &Map<String, Value>) -> bool {
    body.get("object").is_none()
        && body
            .get("data")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .is_some_and(|first| {
                first.get("url").is_some()
                    || first.get("b64_json").is_some()
                    || first.get("revised_prompt").is_some()
            })
}

/// What an image generation cost, as LiteLLM prices it: with `usage` (gpt-image models)
/// the text and image tokens at their catalogue prices; otherwise the entry for
/// `{quality}/{size}/{model}` (then `{size}/{model}`, then the model) priced per pixel
/// or per image, times the images returned. Size defaults to 1024x1024 and quality to
/// `standard`, as in LiteLLM. `None` for a model the catalogue does not price.
pub fn cost(body: &Map<String, Value>, provider: &str, model: &str) -> Option<f64> {
    // The requested `azure/dall-e-3` is named `{quality}/{size}/dall-e-3` in the catalogue.
    let model = model
        .strip_prefix(provider)
        .and_then(|m| m.strip_prefix('/'))
        .unwrap_or(model);
    let provider = Some(provider).filter(|p| !p.is_empty());
    let n = body
        .get("data")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as f64;
    if let Some(usage) = body.get("usage").filter(|u| u.is_object()) {
        if let Some(found) = models::lookup(model, provider) {
            let price = |k: &str| number(&found.entry, k);
            if let Some(out_price) = price("output_cost_per_image_token") {
                let get = |p: &str| usage.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
                let text_in = get("/input_tokens_details/text_tokens");
                let image_in = get("/input_tokens_details/image_tokens");
                // Without the details all input tokens are the prompt's text.
                let text_in = if text_in + image_in == 0.0 {
                    get("/input_tokens")
                } else {
                    text_in
                };
                let input = text_in * price("input_cost_per_token").unwrap_or(0.0)
                    + image_in * price("input_cost_per_image_token").unwrap_or(0.0);
                return Some(input + get("/output_tokens") * out_price);
            }
        }
    }
    let size = body
        .get("size")
        .and_then(Value::as_str)
        .filter(|s| *s != "auto")
        .unwrap_or("1024x1024");
    let (w, h) = dimensions(size).unwrap_or((1024, 1024));
    let size_key = format!("{w}-x-{h}");
    let quality = body
        .get("quality")
        .and_then(Value::as_str)
        .filter(|q| *q != "auto")
        .unwrap_or("standard");
    let names = [
        format!("{quality}/{size_key}/{model}"),
        format!("{size_key}/{model}"),
        model.to_string(),
    ];
    let found = names.iter().find_map(|m| models::lookup(m, provider))?;
    let price = |k: &str| number(&found.entry, k).filter(|p| *p > 0.0);
    if let Some(per_pixel) = price("input_cost_per_pixel") {
        return Some(per_pixel * (w * h) as f64 * n);
    }
    let per_image = price("output_cost_per_image")
        .or_else(|| price("input_cost_per_image"))
        .unwrap_or(0.0);
    Some(per_image * n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn prompt_and_params_are_checked() {
        assert!(check_prompt(Some(&json!("a cat"))).is_ok());
        for bad in [json!(""), json!("  "), json!(3), Value::Null] {
            assert!(check_prompt(Some(&bad)).is_err(), "{bad}");
        }
        assert!(check_prompt(None).is_err());
        assert!(check_params(&obj(json!({"n": 2, "size": "1024x1792"}))).is_ok());
        assert!(check_params(&obj(json!({"size": "auto"}))).is_ok());
        for bad in [json!({"n": 0}), json!({"n": "2"}), json!({"size": "big"})] {
            assert!(check_params(&obj(bad.clone())).is_err(), "{bad}");
        }
        assert!(check_response_format(&json!("b64_json")).is_ok());
        assert!(check_response_format(&json!({"type": "json_object"})).is_err());
        assert!(check_format("anthropic", WireFormat::Anthropic).is_err());
        assert!(check_format("azure", WireFormat::Azure).is_ok());
        assert!(
            check_generation_format("gemini", WireFormat::Gemini, "imagen-3.0-generate-002")
                .is_ok()
        );
        assert!(
            check_generation_format("vertex_ai", WireFormat::Vertex, "imagegeneration@006").is_ok()
        );
        assert!(
            check_generation_format("gemini", WireFormat::Gemini, "gemini-2.0-flash")
                .unwrap_err()
                .message
                .contains("Imagen models")
        );
        // An edit is OpenAI's and Azure's only.
        assert!(check_format("gemini", WireFormat::Gemini).is_err());
    }

    #[test]
    fn azure_dall_e_is_priced_per_pixel_by_quality_and_size() {
        let body = obj(json!({"created": 1, "data": [{"url": "u"}, {"url": "v"}],
            "size": "1024x1792", "quality": "hd"}));
        let c = cost(&body, "azure", "azure/dall-e-3").unwrap_or_default();
        let expected = 7.19343e-08 * 1024.0 * 1792.0 * 2.0;
        assert!((c - expected).abs() < 1e-12, "{c} vs {expected}");
        // Without size and quality: LiteLLM's defaults, standard 1024x1024.
        let body = obj(json!({"created": 1, "data": [{"url": "u"}]}));
        let c = cost(&body, "azure", "dall-e-3").unwrap_or_default();
        assert!((c - 4.19617e-08 * 1024.0 * 1024.0).abs() < 1e-12, "{c}");
    }

    #[test]
    fn openai_dall_e_is_priced_from_the_legacy_entries() {
        let body = obj(json!({"data": [{"url": "u"}], "size": "1024x1792", "quality": "hd"}));
        let c = cost(&body, "openai", "dall-e-3").unwrap_or_default();
        assert!((c - 6.539e-08 * 1024.0 * 1792.0).abs() < 1e-12, "{c}");
        // dall-e-2 has no quality: `{size}/{model}`.
        let body = obj(json!({"data": [{"url": "u"}, {"url": "v"}], "size": "256x256"}));
        let c = cost(&body, "openai", "dall-e-2").unwrap_or_default();
        assert!((c - 2.0 * 2.4414e-07 * 256.0 * 256.0).abs() < 1e-12, "{c}");
    }

    #[test]
    fn gpt_image_is_priced_from_usage_tokens() {
        let body = obj(json!({"created": 1, "data": [{"b64_json": "AA=="}],
            "usage": {"input_tokens": 10, "output_tokens": 100,
                      "input_tokens_details": {"text_tokens": 10, "image_tokens": 0}}}));
        let c = cost(&body, "openai", "gpt-image-1").unwrap_or_default();
        assert!((c - (10.0 * 5e-06 + 100.0 * 4e-05)).abs() < 1e-12, "{c}");
    }

    #[test]
    fn unknown_models_have_no_cost() {
        let body = obj(json!({"data": [{"url": "u"}]}));
        assert_eq!(cost(&body, "openai", "no-such-image-model"), None);
        assert!(is_images_reply(&body));
        assert!(!is_images_reply(&obj(
            json!({"object": "list", "data": [{"embedding": []}]})
        )));
    }

    #[test]
    fn edit_files_are_checked() {
        let path = std::env::temp_dir().join(format!(
            "rustllm-edit-{}.png",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, b"png").unwrap_or_default();
        let file = serde_json::json!({"path": path.to_string_lossy()});
        assert!(check_edit_files(Some(&file), None).is_ok());
        assert!(check_edit_files(
            Some(&serde_json::json!([file.clone(), file.clone()])),
            Some(&file)
        )
        .is_ok());
        for (image, mask) in [
            (Value::Null, Value::Null),
            (serde_json::json!([]), Value::Null),
            (serde_json::json!("a.png"), Value::Null),
            (serde_json::json!([file.clone(), 3]), Value::Null),
            (file.clone(), serde_json::json!({"path": "/no/such.png"})),
        ] {
            assert!(
                check_edit_files(Some(&image), Some(&mask)).is_err(),
                "{image} {mask}"
            );
        }
        std::fs::remove_file(&path).unwrap_or_default();
    }
}
