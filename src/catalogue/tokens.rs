//! Token counting with tiktoken's encodings, as LiteLLM's `token_counter` counts.

use serde_json::Value;
use tiktoken_rs::CoreBPE;

/// The two encodings LiteLLM uses for chat models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    O200kBase,
    Cl100kBase,
}

impl Encoding {
    /// The encoding for a model: o200k_base for the GPT-4o / GPT-4.1 / GPT-5 / o-series
    /// families, cl100k_base for everything else (LiteLLM's default for unknown models).
    pub fn for_model(model: &str) -> Encoding {
        let name = model.rsplit('/').next().unwrap_or(model);
        const O200K: &[&str] = &[
            "gpt-4o",
            "chatgpt-4o",
            "gpt-4.1",
            "gpt-4.5",
            "gpt-5",
            "o1",
            "o3",
            "o4",
            "gpt-oss",
            "codex-",
        ];
        if O200K.iter().any(|p| name.starts_with(p)) {
            Encoding::O200kBase
        } else {
            Encoding::Cl100kBase
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    /// The tokenizer, built (and its ranks parsed) on first use only.
    fn bpe(self) -> &'static CoreBPE {
        match self {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        }
    }

    /// Token ids of `text`; special-token text is encoded as ordinary text, so user input
    /// can never smuggle in control tokens.
    pub fn encode(self, text: &str) -> Vec<u32> {
        self.bpe().encode_ordinary(text)
    }

    /// The text of token ids; `None` if an id is not in the vocabulary.
    pub fn decode(self, tokens: &[u32]) -> Option<String> {
        let bytes = self.bpe().decode_bytes(tokens).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn count(self, text: &str) -> usize {
        self.bpe().encode_ordinary(text).len()
    }
}

/// LiteLLM's (and OpenAI's cookbook's) chat accounting: 3 tokens per message, the tokens
/// of every string field, 1 more for a `name`, text parts of list content, tool-call
/// names and arguments, and 3 to prime the reply.
pub fn count_messages(model: &str, messages: &[Value]) -> usize {
    let enc = Encoding::for_model(model);
    let mut total = 0;
    for message in messages {
        total += 3;
        let Value::Object(m) = message else { continue };
        for (key, value) in m {
            match value {
                Value::String(s) => {
                    total += enc.count(s);
                    if key == "name" {
                        total += 1;
                    }
                }
                Value::Array(items) if key == "content" => {
                    for part in items {
                        if let Some(Value::String(text)) = part.get("text") {
                            total += enc.count(text);
                        }
                    }
                }
                Value::Array(calls) if key == "tool_calls" => {
                    for call in calls {
                        if let Some(f) = call.get("function") {
                            for field in ["name", "arguments"] {
                                if let Some(Value::String(s)) = f.get(field) {
                                    total += enc.count(s);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    total + 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_match_tiktoken_vectors() {
        // Published tiktoken outputs (the OpenAI cookbook's "How to count tokens").
        assert_eq!(
            Encoding::Cl100kBase.encode("hello world"),
            vec![15339, 1917]
        );
        assert_eq!(Encoding::O200kBase.encode("hello world"), vec![24912, 2375]);
        assert_eq!(
            Encoding::Cl100kBase.encode("tiktoken is great!"),
            vec![83, 1609, 5963, 374, 2294, 0]
        );
        assert_eq!(
            Encoding::Cl100kBase.decode(&[15339, 1917]).as_deref(),
            Some("hello world")
        );
    }

    #[test]
    fn litellm_message_accounting() {
        let one = [json!({"role": "user", "content": "hello world"})];
        assert_eq!(count_messages("gpt-4o", &one), 9);
        let named = [json!({"role": "user", "content": "hello world", "name": "bob"})];
        assert_eq!(
            count_messages("gpt-4o", &named),
            9 + 1 + Encoding::O200kBase.count("bob")
        );
    }

    #[test]
    fn encodings_by_family() {
        assert_eq!(
            Encoding::for_model("openai/gpt-4o-mini"),
            Encoding::O200kBase
        );
        assert_eq!(Encoding::for_model("o3-mini"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("gpt-3.5-turbo"), Encoding::Cl100kBase);
        assert_eq!(
            Encoding::for_model("deepseek/deepseek-chat"),
            Encoding::Cl100kBase
        );
    }
}
