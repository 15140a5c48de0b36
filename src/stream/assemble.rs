//! Chunk assembly (the logic of `stream_chunk_builder`): content joined, tool calls merged
//! by index, thinking blocks rebuilt, the last finish reason, the first id. Linear in the
//! number of chunks.

use std::collections::BTreeMap;

/// One tool call being rebuilt from its fragments.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ToolCallParts {
    pub id: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub arguments: String,
}

/// A finished thinking block, as Anthropic wants it sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThinkingBlock {
    Thinking { thinking: String, signature: String },
    Redacted { data: String },
}

/// Everything a stream said, gathered chunk by chunk.
#[derive(Debug, Default)]
pub struct Assembler {
    pub id: Option<String>,
    pub role: Option<String>,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    /// The text of every `thinking` block delta, joined, and the last signature sent.
    pub thinking: Option<String>,
    pub thinking_signature: Option<String>,
    /// `redacted_thinking` blocks arrive whole: their `data`, in order.
    pub redacted_thinking: Vec<String>,
    pub finish_reason: Option<String>,
    pub function_name: Option<String>,
    pub function_arguments: Option<String>,
    /// By `index`, in index order.
    pub tool_calls: BTreeMap<i64, ToolCallParts>,
}

fn append(slot: &mut Option<String>, text: &str) {
    match slot {
        Some(s) => s.push_str(text),
        None => *slot = Some(text.to_string()),
    }
}

impl Assembler {
    pub fn new() -> Self {
        Assembler::default()
    }

    /// The stream's id is the first non-empty one.
    pub fn id(&mut self, id: &str) {
        if self.id.is_none() && !id.is_empty() {
            self.id = Some(id.to_string());
        }
    }

    pub fn role(&mut self, role: &str) {
        if self.role.is_none() && !role.is_empty() {
            self.role = Some(role.to_string());
        }
    }

    pub fn content(&mut self, text: &str) {
        append(&mut self.content, text);
    }

    pub fn reasoning(&mut self, text: &str) {
        append(&mut self.reasoning, text);
    }

    /// One `thinking_blocks` entry of a delta. Anthropic streams a thinking block as text
    /// deltas (signature empty) and then one signature delta (text empty); the last
    /// non-empty signature wins. Redacted blocks carry opaque `data`.
    pub fn thinking_block(
        &mut self,
        kind: Option<&str>,
        thinking: Option<&str>,
        signature: Option<&str>,
        data: Option<&str>,
    ) {
        if kind == Some("redacted_thinking") {
            if let Some(d) = data.filter(|d| !d.is_empty()) {
                self.redacted_thinking.push(d.to_string());
            }
            return;
        }
        if let Some(t) = thinking.filter(|t| !t.is_empty()) {
            append(&mut self.thinking, t);
        }
        if let Some(sig) = signature.filter(|s| !s.is_empty()) {
            self.thinking_signature = Some(sig.to_string());
        }
    }

    /// The thinking blocks to put on the message: the joined thinking (only with its
    /// signature, without which the provider refuses it back, as LiteLLM also drops it),
    /// then the redacted blocks.
    pub fn finished_thinking_blocks(&self) -> Vec<ThinkingBlock> {
        let mut out = Vec::new();
        if let (Some(thinking), Some(signature)) = (&self.thinking, &self.thinking_signature) {
            out.push(ThinkingBlock::Thinking {
                thinking: thinking.clone(),
                signature: signature.clone(),
            });
        }
        out.extend(
            self.redacted_thinking
                .iter()
                .map(|data| ThinkingBlock::Redacted { data: data.clone() }),
        );
        out
    }

    /// The last finish reason sent wins.
    pub fn finish_reason(&mut self, reason: &str) {
        self.finish_reason = Some(reason.to_string());
    }

    pub fn function_call(&mut self, name: Option<&str>, arguments: Option<&str>) {
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            self.function_name = Some(n.to_string());
        }
        if let Some(a) = arguments {
            append(&mut self.function_arguments, a);
        }
    }

    /// A tool-call fragment: the last non-empty id, name and type of its index win; the
    /// argument fragments are concatenated in arrival order.
    pub fn tool_call(
        &mut self,
        index: i64,
        id: Option<&str>,
        name: Option<&str>,
        kind: Option<&str>,
        arguments: Option<&str>,
    ) {
        let slot = self.tool_calls.entry(index).or_default();
        if let Some(v) = id.filter(|v| !v.is_empty()) {
            slot.id = Some(v.to_string());
        }
        if let Some(v) = name.filter(|v| !v.is_empty()) {
            slot.name = Some(v.to_string());
        }
        if let Some(v) = kind.filter(|v| !v.is_empty()) {
            slot.kind = Some(v.to_string());
        }
        if let Some(a) = arguments {
            slot.arguments.push_str(a);
        }
    }

    /// The finished tool calls: groups without an id or a name cannot be sent back and are
    /// dropped (as LiteLLM does); empty arguments become `{}`.
    pub fn finished_tool_calls(&self) -> Vec<(String, String, String, String)> {
        self.tool_calls
            .values()
            .filter_map(|t| {
                let (id, name) = (t.id.clone()?, t.name.clone()?);
                let args = if t.arguments.is_empty() {
                    "{}".to_string()
                } else {
                    t.arguments.clone()
                };
                Some((
                    id,
                    t.kind.clone().unwrap_or_else(|| "function".into()),
                    name,
                    args,
                ))
            })
            .collect()
    }

    /// All text the reply carried (content and tool arguments), for counting tokens when
    /// the stream sent no usage.
    pub fn completion_text(&self) -> String {
        let mut text = self.content.clone().unwrap_or_default();
        for t in self.tool_calls.values() {
            text.push_str(&t.arguments);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_content_and_tool_calls_by_index() {
        let mut a = Assembler::new();
        a.id("");
        a.id("c1");
        a.id("c2");
        a.role("assistant");
        a.content("Let me ");
        a.content("check.");
        a.tool_call(1, Some("call_b"), Some("g"), Some("function"), Some(""));
        a.tool_call(
            0,
            Some("call_a"),
            Some("f"),
            Some("function"),
            Some("{\"a\""),
        );
        a.tool_call(0, None, None, None, Some(": 1}"));
        a.tool_call(2, None, None, None, Some("orphan"));
        a.finish_reason("tool_calls");
        assert_eq!(a.id.as_deref(), Some("c1"));
        assert_eq!(a.content.as_deref(), Some("Let me check."));
        assert_eq!(
            a.finished_tool_calls(),
            vec![
                (
                    "call_a".into(),
                    "function".into(),
                    "f".into(),
                    "{\"a\": 1}".into()
                ),
                ("call_b".into(), "function".into(), "g".into(), "{}".into()),
            ]
        );
        assert_eq!(a.completion_text(), "Let me check.{\"a\": 1}orphan");
    }

    #[test]
    fn thinking_deltas_join_into_one_signed_block() {
        let mut a = Assembler::new();
        a.thinking_block(Some("thinking"), Some("I need "), Some(""), None);
        a.thinking_block(Some("thinking"), Some("to add."), None, None);
        a.thinking_block(Some("thinking"), Some(""), Some("sig-1"), None);
        a.thinking_block(Some("redacted_thinking"), None, None, Some("opaque"));
        assert_eq!(
            a.finished_thinking_blocks(),
            vec![
                ThinkingBlock::Thinking {
                    thinking: "I need to add.".into(),
                    signature: "sig-1".into()
                },
                ThinkingBlock::Redacted {
                    data: "opaque".into()
                },
            ]
        );
    }

    #[test]
    fn unsigned_thinking_is_not_a_block() {
        let mut a = Assembler::new();
        a.thinking_block(Some("thinking"), Some("hmm"), None, None);
        assert!(a.finished_thinking_blocks().is_empty());
    }

    #[test]
    fn ten_thousand_fragments_append_in_place() {
        let mut a = Assembler::new();
        for _ in 0..10_000 {
            a.content("ab");
        }
        assert_eq!(a.content.map(|c| c.len()), Some(20_000));
    }
}
