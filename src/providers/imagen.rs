//! Image generation with Google's Imagen models (`gemini/imagen-*` on AI Studio,
//! `vertex_ai/imagen-*` and `vertex_ai/imagegeneration@*` on Vertex AI): the `predict`
//! method, `{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", ...}}`
//! answered with `{"predictions": [{"bytesBase64Encoded", "mimeType"}]}`.
//!
//! As in LiteLLM, `n` is `sampleCount` and `size` becomes an `aspectRatio`; the images
//! come back as `b64_json` (Imagen has no URLs). Unlike LiteLLM, a size with no Imagen
//! aspect ratio is refused instead of silently becoming `1:1`, `response_format="url"`
//! is refused instead of answered in base64, and OpenAI-only parameters (`quality`,
//! `style`) are refused unless `drop_params` is set. Imagen's own parameters
//! (`negativePrompt`, `personGeneration`, `seed`, `enhancePrompt`, `addWatermark`,
//! `safetySetting`, `outputOptions`, ...) pass through into `parameters` as given.

use serde_json::{json, Map, Value};

use super::ChatContext;
use crate::error::{ErrorKind, LlmError};

/// OpenAI sizes LiteLLM maps to an aspect ratio that is not their exact one.
const SIZES: [(&str, &str); 3] = [
    ("1792x1024", "16:9"),
    ("1024x1792", "9:16"),
    ("1280x896", "4:3"),
];

/// The aspect ratios Imagen serves.
const RATIOS: [&str; 5] = ["1:1", "3:4", "4:3", "9:16", "16:9"];

/// Whether the model is an Imagen model (served by `predict`, not `generateContent`).
pub fn is_imagen(model: &str) -> bool {
    let m = model.strip_prefix("models/").unwrap_or(model);
    m.starts_with("imagen") || m.starts_with("imagegeneration")
}

/// The `predict` body for an OpenAI-format image generation body.
pub fn body(
    ctx: &ChatContext<'_>,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let bad = |msg: String| {
        LlmError::bad_request(format!("image_generation with Imagen: {msg}"))
            .with_context(ctx.provider, ctx.requested_model)
    };
    body.remove("model");
    let prompt = body.remove("prompt").unwrap_or(Value::Null);
    let mut parameters = Map::new();
    if let Some(n) = body.remove("n").filter(|n| !n.is_null()) {
        parameters.insert("sampleCount".into(), n);
    }
    if let Some(size) = body.remove("size").filter(|s| !s.is_null()) {
        let size = size.as_str().unwrap_or_default();
        if size != "auto" {
            let ratio = aspect_ratio(size).ok_or_else(|| {
                bad(format!(
                    "size {size:?} has no Imagen aspect ratio (Imagen serves {}; pass e.g. size=\"1024x1024\", or aspectRatio=\"16:9\")",
                    RATIOS.join(", ")
                ))
            })?;
            parameters.insert("aspectRatio".into(), Value::String(ratio));
        }
    }
    match body.remove("response_format") {
        None | Some(Value::Null) => {}
        Some(Value::String(f)) if f == "b64_json" => {}
        Some(other) => {
            return Err(bad(format!(
                "response_format {other} is not available: Imagen returns images as base64 (data[i].b64_json)"
            )))
        }
    }
    for key in ["quality", "style", "user"] {
        if let Some(v) = body.remove(key).filter(|v| !v.is_null()) {
            if !ctx.options.drop_params && key != "user" {
                return Err(bad(format!(
                    "{key}={v} is an OpenAI parameter Imagen does not have (pass drop_params=True to drop it)"
                )));
            }
        }
    }
    // Imagen's own parameters, as the caller spelled them.
    parameters.extend(body);
    let mut out = Map::with_capacity(2);
    out.insert("instances".into(), json!([{ "prompt": prompt }]));
    out.insert("parameters".into(), Value::Object(parameters));
    Ok(out)
}

/// The aspect ratio of `WIDTHxHEIGHT` when Imagen serves it (LiteLLM's table first).
fn aspect_ratio(size: &str) -> Option<String> {
    if let Some((_, r)) = SIZES.iter().find(|(s, _)| *s == size) {
        return Some((*r).to_string());
    }
    let (w, h) = size.split_once('x')?;
    let (w, h): (u64, u64) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    if w == 0 || h == 0 {
        return None;
    }
    let g = gcd(w, h);
    let ratio = format!("{}:{}", w / g, h / g);
    RATIOS.contains(&ratio.as_str()).then_some(ratio)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The `predict` reply as OpenAI's `ImagesResponse`: one `b64_json` per prediction that
/// holds an image (an enhanced prompt, when Imagen rewrote it, as `revised_prompt`).
/// No image at all is a content-policy error (Imagen filters what its safety settings
/// block and answers with the rest, or with nothing).
pub fn reply(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let predictions = match body.get("predictions") {
        Some(Value::Array(p)) => p.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => {
            return Err(super::malformed_reply(
                ctx,
                "'predictions' is not a list",
                &body,
            ))
        }
    };
    let mut data = Vec::with_capacity(predictions.len());
    let mut filtered = Vec::new();
    for p in predictions {
        match p.get("bytesBase64Encoded").and_then(Value::as_str) {
            Some(b64) => {
                let mut image = Map::new();
                image.insert("b64_json".into(), Value::String(b64.to_string()));
                if let Some(revised) = p.get("prompt").and_then(Value::as_str) {
                    image.insert("revised_prompt".into(), Value::String(revised.to_string()));
                }
                data.push(Value::Object(image));
            }
            None => {
                if let Some(reason) = p.get("raiFilteredReason").and_then(Value::as_str) {
                    filtered.push(reason.to_string());
                }
            }
        }
    }
    if data.is_empty() {
        let why = if filtered.is_empty() {
            "no image was returned (Imagen leaves out images its safety filters block)".to_string()
        } else {
            format!("every image was filtered: {}", filtered.join("; "))
        };
        let e = LlmError::new(
            ErrorKind::ContentPolicyViolation,
            format!(
                "ContentPolicyViolationError: {} - Imagen: {why}",
                crate::error::provider_exception_name(ctx.provider)
            ),
        );
        return Err(e.with_context(ctx.provider, ctx.requested_model));
    }
    let mut out = Map::with_capacity(2);
    out.insert("created".into(), json!(super::unix_now()));
    out.insert("data".into(), Value::Array(data));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Endpointkind;
    use crate::test_support::obj;
    use crate::test_support::with_chat_ctx;

    #[test]
    fn the_request_is_imagens_predict_body() {
        with_chat_ctx(
            Endpointkind::ImageGeneration,
            "gemini",
            "imagen-3.0-generate-002",
            false,
            |ctx| {
                let b = body(
                ctx,
                obj(json!({"model": "imagen-3.0-generate-002", "prompt": "a red fox", "n": 2,
                    "size": "1792x1024", "response_format": "b64_json", "personGeneration": "dont_allow", "seed": 7})),
            )
            .unwrap();
                assert_eq!(
                    Value::Object(b),
                    json!({"instances": [{"prompt": "a red fox"}],
                       "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "personGeneration": "dont_allow", "seed": 7}})
                );
                let exact = body(ctx, obj(json!({"prompt": "p", "size": "768x1024"}))).unwrap();
                assert_eq!(exact["parameters"]["aspectRatio"], "3:4");
                let auto = body(ctx, obj(json!({"prompt": "p", "size": "auto"}))).unwrap();
                assert_eq!(auto["parameters"], json!({}));
            },
        );
    }

    #[test]
    fn what_imagen_cannot_do_is_refused_before_the_request() {
        with_chat_ctx(
            Endpointkind::ImageGeneration,
            "gemini",
            "imagen-3.0-generate-002",
            false,
            |ctx| {
                for (bad, says) in [
                    (
                        json!({"prompt": "p", "size": "1000x300"}),
                        "has no Imagen aspect ratio",
                    ),
                    (
                        json!({"prompt": "p", "response_format": "url"}),
                        "Imagen returns images as base64",
                    ),
                    (
                        json!({"prompt": "p", "quality": "hd"}),
                        "quality=\"hd\" is an OpenAI parameter",
                    ),
                    (json!({"prompt": "p", "style": "vivid"}), "drop_params=True"),
                ] {
                    let e = body(ctx, obj(bad.clone())).unwrap_err();
                    assert_eq!(e.status, 400, "{bad}");
                    assert!(e.message.contains(says), "{bad}: {}", e.message);
                }
            },
        );
    }

    #[test]
    fn predictions_become_b64_images_and_none_is_a_content_policy_error() {
        with_chat_ctx(
            Endpointkind::ImageGeneration,
            "vertex_ai",
            "imagen-3.0-generate-002",
            false,
            |ctx| {
                let r = reply(
                ctx,
                obj(json!({"predictions": [
                    {"bytesBase64Encoded": "AAA", "mimeType": "image/png"},
                    {"raiFilteredReason": "filtered: violence"},
                    {"bytesBase64Encoded": "BBB", "mimeType": "image/png", "prompt": "a fox, photo"}]})),
            )
            .unwrap();
                assert_eq!(
                    r["data"],
                    json!([{"b64_json": "AAA"}, {"b64_json": "BBB", "revised_prompt": "a fox, photo"}])
                );
                assert!(r["created"].as_u64().is_some());
                let e = reply(
                    ctx,
                    obj(json!({"predictions": [{"raiFilteredReason": "filtered: violence"}]})),
                )
                .unwrap_err();
                assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
                assert!(e.message.contains("filtered: violence"), "{}", e.message);
                let e = reply(ctx, obj(json!({}))).unwrap_err();
                assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
                let e = reply(ctx, obj(json!({"predictions": "x"}))).unwrap_err();
                assert!(e.message.contains("predictions"), "{}", e.message);
            },
        );
    }

    #[test]
    fn imagen_models_are_told_by_name() {
        for m in [
            "imagen-3.0-generate-002",
            "models/imagen-4.0-generate-001",
            "imagegeneration@006",
        ] {
            assert!(is_imagen(m), "{m}");
        }
        for m in ["gemini-2.5-flash-image", "gemini-2.0-flash"] {
            assert!(!is_imagen(m), "{m}");
        }
    }
}
