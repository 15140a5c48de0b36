//! Routing by sensitivity: a call whose tags mark it as sensitive goes only to
//! deployments allowed to see sensitive data, and fails closed when none is available.
//!
//! A call is sensitive when its tags (`metadata.tags`, `litellm_metadata.tags` and
//! top-level `tags`, all read) contain one of `sensitive_tags` (`["sensitive"]` by
//! default). The tag `sensitive` always counts, whatever `sensitive_tags` says: it is the
//! tag a guardrail with the `route` action adds, and a configuration
//! that forgot it must not let such a call through to a third party. A deployment is
//! allowed when its `model_info.data_residency` is one of `sensitive_data_residency`
//! (`["local"]` by default); a deployment without one is never allowed.
//!
//! The Router applies this before everything else on every try, retry and fallback
//! ([`super::Router`]'s `filtered`), in `get_available_deployment` and for a custom routing
//! strategy's pick. Nothing here costs a call that is not sensitive more than reading its
//! tags.

use serde_json::{Map, Value};

use super::config::{config_error, Deployment};
use crate::error::{ErrorKind, LlmError};
use crate::types::type_name;

/// The tag that always makes a call sensitive (a `route` guardrail adds it).
pub const SENSITIVE_TAG: &str = "sensitive";

/// Which calls are sensitive and which deployments may serve them
/// (`sensitive_tags`, `sensitive_data_residency`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitivePolicy {
    /// Tags that make a call sensitive; always holds [`SENSITIVE_TAG`].
    pub tags: Vec<String>,
    /// The `model_info.data_residency` values of the deployments allowed for them.
    pub data_residency: Vec<String>,
}

impl Default for SensitivePolicy {
    fn default() -> Self {
        SensitivePolicy {
            tags: vec![SENSITIVE_TAG.to_string()],
            data_residency: vec!["local".to_string()],
        }
    }
}

/// A list of non-empty strings, or `None` when unset.
fn string_list(v: Option<&Value>, name: &str) -> Result<Option<Vec<String>>, LlmError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(config_error(format!(
                "{name} must be a list of strings, got {}",
                type_name(other)
            )))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            other => Err(config_error(format!(
                "{name}[{i}] must be a non-empty string, got {}",
                if other.is_string() {
                    "an empty string".to_string()
                } else {
                    type_name(other).to_string()
                }
            ))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl SensitivePolicy {
    /// From the Router's `sensitive_tags` and `sensitive_data_residency` (lists of
    /// strings; unset or None: the defaults).
    pub fn from_args(
        tags: Option<&Value>,
        data_residency: Option<&Value>,
    ) -> Result<SensitivePolicy, LlmError> {
        let mut policy = SensitivePolicy::default();
        if let Some(mut tags) = string_list(tags, "sensitive_tags")? {
            if !tags.iter().any(|t| t == SENSITIVE_TAG) {
                tags.insert(0, SENSITIVE_TAG.to_string());
            }
            policy.tags = tags;
        }
        if let Some(allowed) = string_list(data_residency, "sensitive_data_residency")? {
            policy.data_residency = allowed;
        }
        Ok(policy)
    }

    /// Whether the call's tags make it sensitive.
    pub fn is_sensitive(&self, kwargs: &Map<String, Value>) -> bool {
        let mut sensitive = false;
        for_each_tag(kwargs, &mut |t| {
            sensitive |= self.tags.iter().any(|s| s == t)
        });
        sensitive
    }

    /// Whether `d` may serve a sensitive call.
    pub fn allows(&self, d: &Deployment) -> bool {
        d.data_residency
            .as_ref()
            .is_some_and(|r| self.data_residency.contains(r))
    }

    /// Whether `tag` is one of the sensitive tags (not a routing tag for tag filtering).
    pub fn is_sensitive_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// A sensitive call may not carry its own endpoint (`api_base`, `base_url`,
    /// `custom_llm_provider`): the call's arguments win over the deployment's, so it would
    /// be sent wherever it says, whichever deployment was chosen. Refused before routing.
    pub fn check_call(&self, kwargs: &Map<String, Value>) -> Result<(), LlmError> {
        if !self.is_sensitive(kwargs) {
            return Ok(());
        }
        let own = ["api_base", "base_url", "custom_llm_provider"]
            .into_iter()
            .find(|k| kwargs.get(*k).is_some_and(|v| !v.is_null()));
        match own {
            None => Ok(()),
            Some(key) => {
                let group = kwargs.get("model").and_then(Value::as_str).unwrap_or("");
                Err(LlmError::bad_request(format!(
                    "A call tagged as sensitive cannot set {key}: it goes only to a deployment allowed for sensitive data (model_info.data_residency), on that deployment's own endpoint. Remove {key} from the call."
                ))
                .with_context("", group))
            }
        }
    }

    /// The error of a sensitive call no allowed deployment can serve: a 400, before any
    /// deployment is called. `why` says what is missing (none configured, all cooling
    /// down, ...).
    pub fn unavailable(&self, group: &str, why: &str) -> LlmError {
        let residency: Vec<String> = self
            .data_residency
            .iter()
            .map(|r| format!("'{r}'"))
            .collect();
        let mut e = LlmError::new(
            ErrorKind::BadRequest,
            format!(
                "No deployment allowed for sensitive data is available for model group={group}: {why}. A call tagged as sensitive only goes to deployments whose model_info.data_residency is one of [{}] (router_settings.sensitive_data_residency), never to another deployment",
                residency.join(", ")
            ),
        );
        e.model = group.to_string();
        e
    }
}

/// Calls `f` on every tag of the call: `metadata.tags`, `litellm_metadata.tags` (where
/// LiteLLM keeps its own metadata on endpoints whose `metadata` is the provider's) and
/// top-level `tags`, each a list of strings or a single string.
fn for_each_tag(kwargs: &Map<String, Value>, f: &mut impl FnMut(&str)) {
    let lists = [
        kwargs.get("metadata").and_then(|m| m.get("tags")),
        kwargs.get("litellm_metadata").and_then(|m| m.get("tags")),
        kwargs.get("tags"),
    ];
    for tags in lists.into_iter().flatten() {
        match tags {
            Value::String(t) => f(t),
            Value::Array(items) => items.iter().filter_map(Value::as_str).for_each(&mut *f),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::obj;

    #[test]
    fn tags_in_metadata_or_at_the_top_level_make_a_call_sensitive() {
        let p = SensitivePolicy::default();
        assert!(p.is_sensitive(&obj(json!({"metadata": {"tags": ["a", "sensitive"]}}))));
        assert!(p.is_sensitive(&obj(json!({"tags": ["sensitive"]}))));
        // Both places are read: metadata.tags does not hide the top-level tags.
        assert!(p.is_sensitive(&obj(
            json!({"metadata": {"tags": ["a"]}, "tags": ["sensitive"]})
        )));
        assert!(p.is_sensitive(&obj(json!({"metadata": {"tags": "sensitive"}}))));
        assert!(p.is_sensitive(&obj(
            json!({"metadata": {"user_id": "u"}, "litellm_metadata": {"tags": ["sensitive"]}})
        )));
        assert!(!p.is_sensitive(&obj(json!({"metadata": {"tags": ["Sensitive", "x"]}}))));
        assert!(!p.is_sensitive(&obj(json!({"metadata": {"user": "sensitive"}}))));
        assert!(!p.is_sensitive(&obj(json!({"model": "g"}))));
    }

    #[test]
    fn configured_tags_add_to_sensitive_which_always_counts() {
        let p =
            SensitivePolicy::from_args(Some(&json!(["phi", "pci"])), Some(&json!(["eu"]))).unwrap();
        assert_eq!(p.tags, ["sensitive", "phi", "pci"]);
        assert_eq!(p.data_residency, ["eu"]);
        assert!(p.is_sensitive(&obj(json!({"tags": ["pci"]}))));
        assert!(p.is_sensitive(&obj(json!({"tags": ["sensitive"]}))));
        assert!(!p.is_sensitive(&obj(json!({"tags": ["paid"]}))));
        assert_eq!(
            SensitivePolicy::from_args(None, Some(&Value::Null)).unwrap(),
            SensitivePolicy::default()
        );
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let cases = [
            (
                json!("sensitive"),
                Value::Null,
                "sensitive_tags must be a list",
            ),
            (
                json!([1]),
                Value::Null,
                "sensitive_tags[0] must be a non-empty string, got int",
            ),
            (
                json!([""]),
                Value::Null,
                "sensitive_tags[0] must be a non-empty string, got an empty string",
            ),
            (
                Value::Null,
                json!({"a": 1}),
                "sensitive_data_residency must be a list of strings, got dict",
            ),
            (
                Value::Null,
                json!(["local", null]),
                "sensitive_data_residency[1]",
            ),
        ];
        for (tags, residency, needle) in cases {
            let e = SensitivePolicy::from_args(Some(&tags), Some(&residency)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Value);
            assert!(e.message.contains(needle), "{needle}: {}", e.message);
        }
    }

    #[test]
    fn a_sensitive_call_cannot_bring_its_own_endpoint() {
        let p = SensitivePolicy::default();
        for key in ["api_base", "base_url", "custom_llm_provider"] {
            let mut k = obj(json!({"model": "g", "tags": ["sensitive"]}));
            k.insert(key.into(), json!("https://api.example.com/v1"));
            let e = p.check_call(&k).unwrap_err();
            assert_eq!((e.kind, e.status), (ErrorKind::BadRequest, 400));
            assert!(
                e.message.contains(&format!("cannot set {key}")),
                "{}",
                e.message
            );
            assert!(!e.message.contains("api.example.com"), "{}", e.message);
            assert_eq!(e.model, "g");
            k.remove("tags");
            assert!(p.check_call(&k).is_ok());
        }
        let k = obj(json!({"model": "g", "tags": ["sensitive"], "api_base": null}));
        assert!(p.check_call(&k).is_ok());
    }
}
