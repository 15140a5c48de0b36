//! A built-in guardrail from its `litellm_params`, the same for the SDK (a dict) and the
//! proxy's `guardrails:` list (YAML):
//!
//! ```yaml
//! guardrails:
//!   - guardrail_name: pii
//!     litellm_params:
//!       guardrail: rustllm          # the built-in detectors ("presidio" is read the same way)
//!       mode: pre_call
//!       default_on: true
//!       detect: [email, phone, credit_card, iban, cn_resident_id, us_ssn, ip_address, secret]
//!       patterns: {EMPLOYEE_ID: "E-[0-9]{6}"}
//!       words: {PROJECT: [atlas, hermes]}
//!       action: mask                # block | mask | log | route
//!       restore: true               # put masked values back into the reply
//! ```
//!
//! LiteLLM's Presidio spelling works too: `pii_entities_config: {CREDIT_CARD: BLOCK,
//! EMAIL_ADDRESS: MASK}` (one action per entity) and `output_parse_pii: true` for
//! `restore`. Everything unknown or malformed is an error naming the guardrail and the
//! field, at start (proxy) or when the guardrail is made (SDK), never at request time.

use serde_json::{Map, Value};

use super::detect::{Detector, Kind};
use super::request::Guardrail;
use super::Action;

/// The names `guardrail:` may take for the built-in detectors.
pub const BUILTIN_NAMES: [&str; 3] = ["rustllm", "builtin", "presidio"];

/// Whether `litellm_params.guardrail` names the built-in detectors.
pub fn is_builtin(guardrail: &str) -> bool {
    BUILTIN_NAMES.contains(&guardrail)
}

/// The guardrails one config entry makes: one per action (a Presidio-style
/// `pii_entities_config` can give each entity its own), in the order block, mask, route,
/// log. `name` is the entry's `guardrail_name`.
pub fn from_params(name: &str, params: &Map<String, Value>) -> Result<Vec<Guardrail>, String> {
    let bad = |field: &str, why: String| format!("guardrail {name:?}: {field}: {why}");
    let restore = match params
        .get("restore")
        .or_else(|| params.get("output_parse_pii"))
    {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(bad(
                "restore",
                format!("expected true or false, got {other}"),
            ))
        }
    };
    let action = match params.get("action") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Action::parse(s).map_err(|e| bad("action", e))?),
        Some(other) => return Err(bad("action", format!("expected a string, got {other}"))),
    };

    // (detector, action) pairs; the default action is mask.
    let mut pairs: Vec<(Detector, Action)> = Vec::new();
    let default = action.unwrap_or(Action::Mask);
    match params.get("detect") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Some(s) = item.as_str() else {
                    return Err(bad("detect", format!("expected names, got {item}")));
                };
                let kind = Kind::builtin(s.trim()).ok_or_else(|| {
                    bad(
                        "detect",
                        format!("unknown detector {s:?} (expected one of email, phone, credit_card, iban, cn_resident_id, us_ssn, ip_address, secret)"),
                    )
                })?;
                pairs.push((Detector::Builtin(kind), default));
            }
        }
        Some(other) => return Err(bad("detect", format!("expected a list, got {other}"))),
    }
    match params.get("pii_entities_config") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entities)) => {
            for (entity, act) in entities {
                let kind = presidio_kind(entity).ok_or_else(|| {
                    bad(
                        "pii_entities_config",
                        format!("entity {entity:?} is not one rustllm detects"),
                    )
                })?;
                let act = act
                    .as_str()
                    .ok_or_else(|| {
                        bad(
                            "pii_entities_config",
                            format!("{entity}: expected MASK or BLOCK, got {act}"),
                        )
                    })
                    .and_then(|s| Action::parse(s).map_err(|e| bad("pii_entities_config", e)))?;
                pairs.push((Detector::Builtin(kind), act));
            }
        }
        Some(other) => {
            return Err(bad(
                "pii_entities_config",
                format!("expected a mapping, got {other}"),
            ))
        }
    }
    match params.get("patterns") {
        None | Some(Value::Null) => {}
        Some(Value::Object(patterns)) => {
            for (label, p) in patterns {
                let p = p.as_str().ok_or_else(|| {
                    bad("patterns", format!("{label}: expected a string, got {p}"))
                })?;
                pairs.push((
                    Detector::pattern(label, p).map_err(|e| bad("patterns", e))?,
                    default,
                ));
            }
        }
        Some(other) => return Err(bad("patterns", format!("expected a mapping, got {other}"))),
    }
    match params.get("words") {
        None | Some(Value::Null) => {}
        Some(Value::Object(lists)) => {
            for (label, words) in lists {
                let words: Option<Vec<String>> = words
                    .as_array()
                    .map(|a| a.iter().map(|w| w.as_str().map(String::from)).collect())
                    .unwrap_or(None);
                let words = words
                    .filter(|w| !w.is_empty())
                    .ok_or_else(|| bad("words", format!("{label}: expected a list of words")))?;
                pairs.push((Detector::words(label, &words), default));
            }
        }
        Some(other) => return Err(bad("words", format!("expected a mapping, got {other}"))),
    }
    if pairs.is_empty() {
        return Err(format!(
            "guardrail {name:?}: nothing to detect: give `detect`, `patterns`, `words` or `pii_entities_config`"
        ));
    }
    let mut out = Vec::new();
    for act in [Action::Block, Action::Mask, Action::Route, Action::Log] {
        let detectors: Vec<Detector> = pairs
            .iter()
            .filter(|(_, a)| *a == act)
            .map(|(d, _)| d.clone())
            .collect();
        if !detectors.is_empty() {
            out.push(Guardrail {
                name: name.to_string(),
                detectors,
                action: act,
                restore: restore && act == Action::Mask,
            });
        }
    }
    Ok(out)
}

/// Presidio's entity names for what rustllm detects (and rustllm's own labels).
fn presidio_kind(entity: &str) -> Option<Kind> {
    Some(match entity.to_ascii_uppercase().as_str() {
        "EMAIL_ADDRESS" | "EMAIL" => Kind::Email,
        "PHONE_NUMBER" | "PHONE" => Kind::Phone,
        "CREDIT_CARD" => Kind::PaymentCard,
        "IBAN_CODE" | "IBAN" => Kind::Iban,
        "US_SSN" => Kind::UsSsn,
        "IP_ADDRESS" => Kind::IpAddress,
        "CN_ID" | "CN_RESIDENT_ID" => Kind::CnResidentId,
        "SECRET" | "API_KEY" => Kind::Secret,
        _ => return None,
    })
}
