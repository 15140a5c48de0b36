//! A user's own routing rule (`Router.set_custom_routing_strategy`).
//!
//! With a [`DeploymentPicker`], the Router asks it for the deployment of each try instead
//! of running its strategy; everything around that choice is unchanged: the picked
//! deployment must not be cooling down, is admitted under its rpm/tpm, waits for its
//! parallel-request slot, and a failure counts towards cooldowns, retries (each retry
//! asks the picker again) and fallbacks (the picker is asked with the fallback group's
//! name). Without a picker none of this code runs.
//!
//! The picker is plain Rust; the Python binding implements it by calling the user's
//! `CustomRoutingStrategyBase` (src/py/custom.rs).

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::error::LlmError;

/// What a picker's future resolves to: the chosen deployment's id.
pub type PickFuture<'a> = Pin<Box<dyn Future<Output = Result<String, LlmError>> + Send + 'a>>;

/// Chooses the deployment for one try of a routed call.
pub trait DeploymentPicker: Send + Sync {
    /// `requested` is the model name as the call (or the fallback) gave it: a group, an
    /// alias or a deployment's model; `kwargs` the call's arguments. Returns the id
    /// (`model_info.id`) of one of the Router's deployments.
    fn pick<'a>(&'a self, requested: &'a str, kwargs: &'a Map<String, Value>) -> PickFuture<'a>;
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::{json, Map, Value};

    use super::*;
    use crate::router::config::RouterConfig;
    use crate::router::{Routed, Router};

    struct Done;
    impl Routed for Done {
        fn tokens(&self) -> (Option<u64>, Option<u64>) {
            (None, None)
        }
    }

    /// Picks `first` once, then `then`; records the names it was asked about.
    struct Script {
        first: &'static str,
        then: &'static str,
        asked: Mutex<Vec<String>>,
    }

    impl DeploymentPicker for Script {
        fn pick<'a>(&'a self, requested: &'a str, _: &'a Map<String, Value>) -> PickFuture<'a> {
            Box::pin(async move {
                let mut asked = self.asked.lock().unwrap();
                asked.push(requested.to_string());
                Ok(if asked.len() == 1 {
                    self.first
                } else {
                    self.then
                }
                .to_string())
            })
        }
    }

    fn router() -> Arc<Router> {
        let Value::Object(m) = json!({"model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/a"}, "model_info": {"id": "a"}},
            {"model_name": "g", "litellm_params": {"model": "openai/b"}, "model_info": {"id": "b"}}
        ], "num_retries": 2}) else {
            unreachable!()
        };
        Router::new(RouterConfig::from_json(&m).unwrap().0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn each_try_asks_the_picker_and_failures_are_retried() {
        let r = router();
        let picker = Script {
            first: "a",
            then: "b",
            asked: Mutex::new(Vec::new()),
        };
        let called = Arc::new(Mutex::new(Vec::new()));
        let c = called.clone();
        let Value::Object(kw) =
            json!({"model": "g", "messages": [{"role": "user", "content": "hi"}]})
        else {
            unreachable!()
        };
        let (_, _, info) = r
            .route_with("completion", kw, false, Some(&picker), None, move |m| {
                let c = c.clone();
                async move {
                    let model = m["model"].as_str().unwrap_or("").to_string();
                    c.lock().unwrap().push(model.clone());
                    if model == "openai/a" {
                        Err(crate::error::map_http_error(
                            500,
                            "openai",
                            "a",
                            "boom",
                            None,
                            Vec::new(),
                        ))
                    } else {
                        Ok(Done)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(info.model_id, "b");
        assert_eq!(info.attempted_retries, 1);
        assert_eq!(*called.lock().unwrap(), ["openai/a", "openai/b"]);
        assert_eq!(*picker.asked.lock().unwrap(), ["g", "g"]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_pick_is_a_value_error() {
        let r = router();
        let picker = Script {
            first: "nope",
            then: "nope",
            asked: Mutex::new(Vec::new()),
        };
        let Value::Object(kw) =
            json!({"model": "g", "messages": [{"role": "user", "content": "hi"}]})
        else {
            unreachable!()
        };
        let e = r
            .route_with("completion", kw, false, Some(&picker), None, |_| async {
                Ok(Done)
            })
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind, crate::error::ErrorKind::Value);
    }
}
