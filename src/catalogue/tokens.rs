//! Token counting with tiktoken's encodings, as LiteLLM's `token_counter` counts.
//!
//! Counting, encoding and decoding go through `bpe.rs` beside this file, a hand-written
//! pre-tokenizer and a rank table compiled in by `build.rs`, which gives the same ids as
//! tiktoken-rs's `encode_ordinary`, 3 to 30 times faster, with nothing to load first
//! (tiktoken-rs took ~60 / ~125 ms to load cl100k / o200k, and copying its ranks ~16 /
//! ~35 ms more, on the first caller's thread). tiktoken-rs is only a build and test
//! dependency: the tests below compare the two.
//!
//! Measured on the 2-core AMD EPYC dev machine (release build, LTO, best of 30, shared
//! with other builds), with `cargo test --release --lib measure_token_counting --
//! --ignored --nocapture`:
//!
//! | text | tiktoken-rs cl100k / o200k | `count` cl100k / o200k |
//! | --- | --- | --- |
//! | "0 1 2 … 9999" (49 KB, 29k tokens) | 6.7 / 4.3 ms | 0.21 / 0.23 ms |
//! | "The quick brown fox… " × 1000 (45 KB, 10k tokens) | 1.55 / 0.80 ms | 0.15 / 0.16 ms |
//! | Rust code (33 KB, 13k tokens) | 2.9 / 1.7 ms | 0.17 / 0.19 ms |
//! | French, symbols and Japanese (36 KB) | 1.9 / 1.3 ms | 0.54 / 0.51 ms |

use serde_json::Value;

use super::bpe::FastBpe;

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

    /// The tokenizer: static data, nothing to build.
    fn fast(self) -> &'static FastBpe {
        match self {
            Encoding::O200kBase => &FastBpe::O200K_BASE,
            Encoding::Cl100kBase => &FastBpe::CL100K_BASE,
        }
    }

    /// Token ids of `text`; special-token text is encoded as ordinary text, so user input
    /// can never smuggle in control tokens.
    pub fn encode(self, text: &str) -> Vec<u32> {
        self.fast().encode(text)
    }

    /// The text of token ids; `None` if an id is not in the vocabulary.
    pub fn decode(self, tokens: &[u32]) -> Option<String> {
        let bytes = self.fast().decode_bytes(tokens)?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `encode(text).len()`, without building the ids.
    pub fn count(self, text: &str) -> usize {
        self.fast().count(text)
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

    /// tiktoken-rs's tokenizer of `enc`, the reference.
    fn tiktoken(enc: Encoding) -> &'static tiktoken_rs::CoreBPE {
        match enc {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        }
    }

    /// The fast tokenizer and tiktoken-rs agree on `text`, ids and count, in both encodings.
    fn assert_same_as_tiktoken(text: &str) {
        for enc in [Encoding::Cl100kBase, Encoding::O200kBase] {
            let want = tiktoken(enc).encode_ordinary(text);
            assert_eq!(enc.encode(text), want, "{} ids of {text:?}", enc.name());
            assert_eq!(
                enc.count(text),
                want.len(),
                "{} count of {text:?}",
                enc.name()
            );
        }
    }

    /// `count` strings of 1..=max_len fragments drawn from `alphabet` (xorshift64).
    fn generated(mut seed: u64, alphabet: &[&str], count: usize, max_len: usize) -> Vec<String> {
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        (0..count)
            .map(|_| {
                let len = next() % max_len + 1;
                (0..len)
                    .map(|_| alphabet[next() % alphabet.len()])
                    .collect()
            })
            .collect()
    }

    const ASCII_FRAGMENTS: &[&str] = &[
        " ", " ", " ", "  ", "\n", "\r", "\r\n", "\t", "\x0b", "\x0c", "a", "b", "e", "s", "t",
        "d", "m", "l", "r", "v", "x", "S", "T", "D", "M", "L", "R", "E", "V", "A", "Z", "'", "'",
        "0", "1", "5", "9", ".", ",", "!", "?", "/", "//", "-", "_", "(", ")", "{", "}", "[", "]",
        "\"", ":", ";", "#", "\\", "<|", "|>", "\x00", "\x1f", "\x7f", "hello", "The", "HTTP",
        "don't", "'LL", "'re", "'Ve", "123456", "  \n ", "?!", "...",
    ];

    const UNICODE_FRAGMENTS: &[&str] = &[
        "é", "É", "\u{301}", "ſ", "\u{212a}", "ǅ", "ʰ", "中", "文", "ー", "٣", "²", "Ⅷ", "\u{a0}",
        "\u{85}", "\u{2028}", "\u{3000}", "😀", "👍🏽", "𝐀", "𝑎", "𐐀", "𐐨", "—", "’", "“", "ß", "ﬁ",
        "\u{200b}", "\u{feff}", "ℕ", "ⅰ", "١", "ה", "ا", "\u{64b}", "İ", "ı", "ы", "Ж", "€",
    ];

    #[test]
    fn same_ids_as_tiktoken_on_edge_cases() {
        let mut cases: Vec<String> = [
            "",
            " ",
            "  ",
            "  a",
            "a  \n b",
            "a ",
            "a  ",
            "\n",
            "\r\n\r\n",
            " \r\n \r\n  x",
            "x\r\n  ",
            "\t\x0b\x0c x\t\x0b\x0c",
            "it's I'M we'RE they'Ve you'll I'D don't 'S 'Sam ''s '",
            "IT'S YOU'LL 'LL 'lL 'Re",
            "1 12 123 1234 12345 123456 1234567 -1.5e10",
            "!!! ?!? ... --- (!) '!' \"quoted\" <|endoftext|> <|fim_prefix|>",
            "a!\n/b !//\n\n/ //",
            "HTTPServer camelCase snake_case kebab-case ALLCAPS Title",
            "fn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{x:?}\");\n}\n",
            "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
            "naïve café Ça coûte 12 € — “quotes” ‘single’",
            "日本語のテキスト、中文文本。한국어 텍스트",
            "emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
            "A\u{301}B e\u{301} \u{301}x ǅa ʰa 'ſ x'ſ K'S",
            "nbsp\u{a0}\u{a0}x line\u{2028}sep\u{85}nel\u{3000}ideo",
            "١٢٣٤ ²³ Ⅷ ⅰⅱ",
        ]
        .map(String::from)
        .to_vec();
        // Pieces of 100 bytes and more go through tiktoken's heap-based merge.
        cases.push("a".repeat(300));
        cases.push("ab".repeat(150));
        cases.push(" ".repeat(300) + "x");
        cases.push("!".repeat(250));
        cases.push("é".repeat(150));
        cases.push("7".repeat(1000));
        let letters = ["a", "b", "c", "d", "e", "q", "x", "z", "A", "Q"];
        cases.extend(generated(7, &letters, 20, 500));
        cases.push(
            (0..10000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
        cases.push("The quick brown fox jumps over the lazy dog. ".repeat(100));
        for case in &cases {
            assert_same_as_tiktoken(case);
        }
    }

    #[test]
    fn same_ids_as_tiktoken_on_generated_ascii() {
        for text in generated(0x9E37_79B9_7F4A_7C15, ASCII_FRAGMENTS, 3000, 60) {
            assert_same_as_tiktoken(&text);
        }
    }

    #[test]
    fn same_ids_as_tiktoken_on_generated_unicode() {
        let mixed: Vec<&str> = ASCII_FRAGMENTS
            .iter()
            .chain(UNICODE_FRAGMENTS)
            .copied()
            .collect();
        for text in generated(0x2545_F491_4F6C_DD1D, &mixed, 2000, 60) {
            assert_same_as_tiktoken(&text);
        }
        for text in generated(0xDEAD_BEEF_CAFE_F00D, UNICODE_FRAGMENTS, 500, 30) {
            assert_same_as_tiktoken(&text);
        }
        // Dense in what the o200k letter alternatives backtrack over: marks and modifier or
        // other letters (in both its "upper" and "lower" classes), title case, apostrophes.
        let dense = [
            "\u{301}", "A", "a", "ʰ", "中", "'", "s", "S", "ſ", " ", " ", "\n", "\u{a0}", "!", "1",
            "ǅ", "\r", "l", "L", "e", "/", "\t", "𝐀", "𝑎",
        ];
        for text in generated(0x0123_4567_89AB_CDEF, &dense, 1000, 40) {
            assert_same_as_tiktoken(&text);
        }
    }

    /// Timings for the module doc: `cargo test --release --lib measure_token_counting --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    #[allow(clippy::print_stderr)]
    fn measure_token_counting() {
        use std::time::Instant;
        let best_ms = |f: &dyn Fn() -> usize| {
            (0..30)
                .map(|_| {
                    let start = Instant::now();
                    std::hint::black_box(f());
                    start.elapsed().as_secs_f64() * 1e3
                })
                .fold(f64::MAX, f64::min)
        };
        let texts = [
            (
                "digits",
                (0..10000)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            (
                "prose",
                "The quick brown fox jumps over the lazy dog. ".repeat(1000),
            ),
            (
                "code",
                "fn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{:?}\", x);\n}\n"
                    .repeat(500),
            ),
            (
                "unicode",
                "Ça coûte 12 € — naïve “quotes” and 日本語のテキスト. ".repeat(500),
            ),
        ];
        for enc in [Encoding::Cl100kBase, Encoding::O200kBase] {
            let start = Instant::now();
            let first = enc.count("hello world");
            let first_ms = start.elapsed().as_secs_f64() * 1e3;
            let start = Instant::now();
            let bpe = tiktoken(enc);
            let loaded = start.elapsed().as_secs_f64() * 1e3;
            eprintln!(
                "{}: first count ({first} tokens) in {first_ms:.3} ms; tiktoken-rs loads in {loaded:.1} ms",
                enc.name()
            );
            for (name, text) in &texts {
                let slow = best_ms(&|| bpe.encode_ordinary(text).len());
                let fast = best_ms(&|| enc.count(text));
                eprintln!(
                    "  {name:8} {:6} bytes {:6} tokens: tiktoken-rs {slow:.3} ms, count {fast:.3} ms ({:.1}x)",
                    text.len(),
                    enc.count(text),
                    slow / fast
                );
            }
        }
    }
}
