//! Guardrails' sensitive-data detection, in plain Rust for the SDK and the proxy alike:
//! [`detect`] finds e-mail addresses, phone numbers, payment cards, IBANs, mainland-China
//! resident IDs, US SSNs, IP addresses and secrets (plus user patterns and word lists);
//! [`mask`] replaces them with typed placeholders and restores them in replies.
//!
//! What a finding leads to is the guardrail's [`Action`]: block the request, mask the
//! values, or only log that they were there. Decisions name the rule and the action,
//! never the matched value.

pub mod config;
pub mod detect;
pub mod mask;
pub mod request;

pub use detect::{find, Detector, Finding, Kind};
pub use mask::{Masker, Restorer};
pub use request::{
    apply, apply_reply, restore_reply, Applied, Blocked, Decision, Guardrail, StreamRestorer,
};

/// What a guardrail does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Refuse the request (before any provider call).
    Block,
    /// Replace each value with a placeholder; optionally restore it in the reply.
    Mask,
    /// Let the request through and record the decision.
    Log,
    /// Let the request through, recorded, but only to deployments allowed for sensitive
    /// data (`model_info.data_residency`); never to a third-party one.
    Route,
    /// What a guardrail class did when it changed the request or reply (a class says
    /// nothing of what it found or why): recorded, never configured.
    Modify,
}

impl Action {
    /// From a config's `action`: `block`, `mask` or `log`.
    pub fn parse(s: &str) -> Result<Action, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "block" => Ok(Action::Block),
            "mask" => Ok(Action::Mask),
            "log" => Ok(Action::Log),
            "route" => Ok(Action::Route),
            other => Err(format!(
                "guardrail action {other:?}: expected block, mask, log or route"
            )),
        }
    }

    /// The config spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Block => "block",
            Action::Mask => "mask",
            Action::Log => "log",
            Action::Route => "route",
            Action::Modify => "modify",
        }
    }
}

#[cfg(test)]
mod tests;
