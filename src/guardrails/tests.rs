use super::detect::{cn_id_valid, iban_valid, luhn};
use super::*;

/// The texts `kind`'s detector finds in `text`.
fn found(kind: Kind, text: &str) -> Vec<String> {
    find(text, &[Detector::Builtin(kind)])
        .into_iter()
        .map(|f| text[f.range].to_string())
        .collect()
}

fn one(kind: Kind, text: &str, expected: &str) {
    assert_eq!(
        found(kind.clone(), text),
        vec![expected.to_string()],
        "{kind:?} in {text:?}"
    );
}

fn none(kind: Kind, text: &str) {
    assert_eq!(
        found(kind.clone(), text),
        Vec::<String>::new(),
        "{kind:?} in {text:?}"
    );
}

#[test]
fn emails() {
    one(
        Kind::Email,
        "write to jane.doe+tag@example.co.uk.",
        "jane.doe+tag@example.co.uk",
    );
    one(
        Kind::Email,
        "(ops@mail-1.example.com)",
        "ops@mail-1.example.com",
    );
    one(
        Kind::Email,
        "联系张三：zhang.san@qq.com 谢谢",
        "zhang.san@qq.com",
    );
    none(
        Kind::Email,
        "a @ b, user@localhost, x@y.z, @handle, me@-bad.com",
    );
    none(Kind::Email, "version 1.2@3 and foo@bar.c0m");
}

#[test]
fn payment_cards_are_luhn_checked() {
    one(
        Kind::PaymentCard,
        "card 4111 1111 1111 1111 exp 12/29",
        "4111 1111 1111 1111",
    );
    one(
        Kind::PaymentCard,
        "5500-0000-0000-0004",
        "5500-0000-0000-0004",
    );
    one(
        Kind::PaymentCard,
        "amex 378282246310005.",
        "378282246310005",
    );
    one(
        Kind::PaymentCard,
        "银联 6212345678901232",
        "6212345678901232",
    );
    // One digit off: Luhn fails.
    none(Kind::PaymentCard, "card 4111 1111 1111 1112");
    // Luhn-valid but no network's prefix, inside a longer run, or too short.
    none(Kind::PaymentCard, "order 1000000000000007");
    none(Kind::PaymentCard, "id 94111111111111111111111");
    none(Kind::PaymentCard, "4242 4242 42");
    assert!(luhn(b"79927398713") && !luhn(b"79927398710"));
}

#[test]
fn ibans_are_mod_97_checked() {
    one(
        Kind::Iban,
        "IBAN: DE89 3704 0044 0532 0130 00, thanks",
        "DE89 3704 0044 0532 0130 00",
    );
    one(
        Kind::Iban,
        "GB82WEST12345698765432",
        "GB82WEST12345698765432",
    );
    one(
        Kind::Iban,
        "to FR1420041010050500013M02606.",
        "FR1420041010050500013M02606",
    );
    none(Kind::Iban, "DE89 3704 0044 0532 0130 01");
    // Valid check digits but the wrong length for Germany.
    none(Kind::Iban, "DE8937040044053201300");
    none(Kind::Iban, "AB12 is a part number, ISO 9001");
    assert!(iban_valid(b"NL91ABNA0417164300"));
    assert!(!iban_valid(b"NL91ABNA0417164301"));
}

#[test]
fn mainland_china_resident_ids_are_checksum_and_date_checked() {
    one(
        Kind::CnResidentId,
        "身份证号11010519491231002X。",
        "11010519491231002X",
    );
    one(
        Kind::CnResidentId,
        "id 440524198001010013 ok",
        "440524198001010013",
    );
    assert!(cn_id_valid(b"11010519491231002x"));
    // Checksum off by one.
    none(Kind::CnResidentId, "110105194912310021");
    // A valid checksum but 31 February.
    let mut id = *b"11010519490231000X";
    let weights = [7u32, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = id[..17]
        .iter()
        .zip(weights)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    id[17] = b"10X98765432"[(sum % 11) as usize];
    assert!(!cn_id_valid(&id));
    // Region 9 does not exist; 19 digits is not an ID.
    none(Kind::CnResidentId, "910105194912310021");
    none(Kind::CnResidentId, "1101051949123100211");
}

#[test]
fn us_social_security_numbers() {
    one(Kind::UsSsn, "SSN 123-45-6789.", "123-45-6789");
    one(Kind::UsSsn, "ssn: 078 05 1120", "078 05 1120");
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "123-00-4567",
        "123-45-0000",
        "123-45-6789-1",
        "1123-45-6789",
        "123-45 6789",
    ] {
        none(Kind::UsSsn, bad);
    }
}

#[test]
fn phone_numbers() {
    one(
        Kind::Phone,
        "call +1 (415) 555-2671 now",
        "+1 (415) 555-2671",
    );
    one(Kind::Phone, "tel: +44 20 7946 0958", "+44 20 7946 0958");
    one(Kind::Phone, "手机13812345678，", "13812345678");
    one(Kind::Phone, "mobile 138-1234-5678", "138-1234-5678");
    one(Kind::Phone, "+86 139 1234 5678", "+86 139 1234 5678");
    one(Kind::Phone, "office 010-12345678", "010-12345678");
    one(Kind::Phone, "(212) 555-0198", "(212) 555-0198");
    one(Kind::Phone, "650-253-0000", "650-253-0000");
    // Dates, versions, amounts, short numbers, ids inside words, mobiles with a wrong
    // second digit, and a North American area code starting with 1.
    for bad in [
        "2024-01-15",
        "v1.2.3",
        "$1,234.56",
        "+12",
        "room 1234",
        "ab13812345678",
        "12812345678",
        "123-456-7890",
    ] {
        none(Kind::Phone, bad);
    }
}

#[test]
fn ip_addresses() {
    one(Kind::IpAddress, "from 192.168.1.20.", "192.168.1.20");
    one(
        Kind::IpAddress,
        "host 2001:db8::8a2e:370:7334 down",
        "2001:db8::8a2e:370:7334",
    );
    for bad in [
        "256.1.1.1",
        "1.2.3",
        "version 1.2.3.4.5",
        "12:30",
        "a::b is not",
        "deadbeef",
    ] {
        none(Kind::IpAddress, bad);
    }
}

#[test]
fn secrets_by_prefix_and_entropy() {
    let openai = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv";
    one(Kind::Secret, &format!("key={openai} ok"), openai);
    one(
        Kind::Secret,
        "AKIAIOSFODNN7EXAMPLE is the id",
        "AKIAIOSFODNN7EXAMPLE",
    );
    one(
        Kind::Secret,
        "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    );
    let random = "Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb";
    one(Kind::Secret, &format!("secret: {random}"), random);
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----";
    one(Kind::Secret, &format!("x\n{pem}\ny"), pem);
    // Words, a sha256 hex digest, a UUID, a short key, a public key block, snake_case.
    for bad in [
        "internationalization_and_localization_guidelines",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "123e4567-e89b-12d3-a456-426614174000",
        "sk-short",
        "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----",
        "AKIAlowercase00000000",
    ] {
        none(Kind::Secret, bad);
    }
}

#[test]
fn user_patterns_and_word_lists() {
    let patterns = [
        Detector::pattern("employee_id", r"EMP-\d{6}").unwrap(),
        Detector::words("project", &["Blue Falcon".to_string(), " ".to_string()]),
    ];
    let text = "EMP-123456 leads blue falcon; not bluefalcon or EMP-12";
    let got: Vec<(String, &str)> = find(text, &patterns)
        .into_iter()
        .map(|f| (f.kind.label(), &text[f.range]))
        .collect();
    assert_eq!(
        got,
        vec![
            ("EMPLOYEE_ID".to_string(), "EMP-123456"),
            ("PROJECT".to_string(), "blue falcon")
        ]
    );
    let e = Detector::pattern("bad", "(unclosed").unwrap_err();
    assert!(e.contains("\"bad\""), "{e}");
    assert_eq!(Action::parse(" Mask ").unwrap(), Action::Mask);
    assert!(Action::parse("redact")
        .unwrap_err()
        .contains("block, mask, log or route"));
    assert_eq!(Kind::builtin("credit_card"), Some(Kind::PaymentCard));
    assert_eq!(Kind::builtin("nope"), None);
}

#[test]
fn overlapping_findings_keep_the_earlier_and_longer() {
    let all: Vec<Detector> = Kind::BUILTIN
        .iter()
        .cloned()
        .map(Detector::Builtin)
        .collect();
    // A card number is not also a phone number; the e-mail wins over its digits.
    let text = "card 4111111111111111, mail 13812345678@qq.com";
    let kinds: Vec<(Kind, &str)> = find(text, &all)
        .into_iter()
        .map(|f| (f.kind, &text[f.range]))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Kind::PaymentCard, "4111111111111111"),
            (Kind::Email, "13812345678@qq.com")
        ]
    );
}

#[test]
fn masking_and_restoring_round_trip() {
    let all: Vec<Detector> = Kind::BUILTIN
        .iter()
        .cloned()
        .map(Detector::Builtin)
        .collect();
    let mut m = Masker::default();
    let first = "Email jane@example.com or bob@example.org, card 4111 1111 1111 1111.";
    let masked = m.mask(first, &find(first, &all));
    assert_eq!(
        masked,
        "Email <EMAIL_1> or <EMAIL_2>, card <CREDIT_CARD_1>."
    );
    // The same value in a later message gets the same placeholder.
    let second = "Again: jane@example.com";
    assert_eq!(m.mask(second, &find(second, &all)), "Again: <EMAIL_1>");
    assert_eq!(m.len(), 3);
    let reply = "I wrote to <EMAIL_1>; <EMAIL_9> and <b>bold</b> stay.";
    assert_eq!(
        m.restore(reply),
        "I wrote to jane@example.com; <EMAIL_9> and <b>bold</b> stay."
    );
    assert_eq!(m.restore(&masked), first);
}

#[test]
fn a_streamed_reply_is_restored_across_chunk_boundaries() {
    let text = "mail jane@example.com and 13812345678";
    let all: Vec<Detector> = Kind::BUILTIN
        .iter()
        .cloned()
        .map(Detector::Builtin)
        .collect();
    let mut m = Masker::default();
    let masked = m.mask(text, &find(text, &all));
    assert_eq!(masked, "mail <EMAIL_1> and <PHONE_1>");
    let reply = "Sent to <EMAIL_1> and <PHONE_1>; a < b <i>ok</i> <EMAIL";
    // Every way of cutting the reply in two and in single characters restores the same.
    let whole = m.restore(reply);
    assert_eq!(
        whole,
        "Sent to jane@example.com and 13812345678; a < b <i>ok</i> <EMAIL"
    );
    for cut in 0..=reply.len() {
        let mut r = m.restorer();
        let mut out = r.push(&reply[..cut]);
        out += &r.push(&reply[cut..]);
        out += &r.finish();
        assert_eq!(out, whole, "cut at {cut}");
    }
    let mut r = m.restorer();
    let mut out = String::new();
    for c in reply.chars() {
        let piece = r.push(&c.to_string());
        // Nothing that is already shown is ever a piece of a placeholder.
        assert!(!piece.contains("<EMAIL_1"), "{piece}");
        out += &piece;
    }
    out += &r.finish();
    assert_eq!(out, whole);
}

/// Not a test: prints what every built-in detector costs on a 4 KiB prompt
/// (`cargo test --release --lib measure_detection -- --ignored --nocapture`).
#[test]
#[ignore]
#[allow(clippy::print_stderr)]
fn measure_detection() {
    let all: Vec<Detector> = Kind::BUILTIN
        .iter()
        .cloned()
        .map(Detector::Builtin)
        .collect();
    // Digit-dense notes, and prose with a few values at its end (bench/guardrails.py's).
    let notes = "Please summarise the meeting notes from 2024-05-01: the team (ten people) agreed on version 2.3.1, budget $12,500, room 401; contact jane@example.com or +44 20 7946 0958. ";
    let prose = "Please summarise the quarterly report for the board. Revenue grew in every region, costs were flat, and the new product line shipped on time. ";
    let tail = " Contact jane.doe@example.com or +44 20 7946 0958; card 4111 1111 1111 1111.";
    for (name, sentence, tail) in [("notes", notes, ""), ("prose", prose, tail)] {
        let mut text = String::new();
        while text.len() < 4096 {
            text.push_str(sentence);
        }
        text.truncate(4096 - tail.len());
        text.push_str(tail);
        // The fastest of 9 rounds of 1,000: the machine's noise only ever adds.
        let n = 1000;
        let time = |detectors: &[Detector]| {
            let mut best = f64::MAX;
            let mut found = 0;
            for _ in 0..9 {
                let t = std::time::Instant::now();
                for _ in 0..n {
                    found = find(std::hint::black_box(&text), detectors).len();
                }
                best = best.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
            }
            (best, found)
        };
        time(&all);
        eprintln!("4 KiB of {name}:");
        for kind in Kind::BUILTIN {
            let (us, _) = time(&[Detector::Builtin(kind.clone())]);
            eprintln!("  {kind:?}: {us:.2} µs");
        }
        let (per, found) = time(&all);
        eprintln!("  every built-in detector: {per:.2} µs ({found} findings)");
    }
}

fn rule(name: &str, kinds: &[Kind], action: Action, restore: bool) -> Guardrail {
    Guardrail {
        name: name.into(),
        detectors: kinds.iter().cloned().map(Detector::Builtin).collect(),
        action,
        restore,
    }
}

#[test]
fn apply_masks_every_text_a_model_reads_and_restores_the_reply() {
    let mut body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Mail jane@example.com for help."},
            {"role": "user", "content": [
                {"type": "text", "text": "I am jane@example.com, card 4111 1111 1111 1111"},
                {"type": "image_url", "image_url": {"url": "https://x.test/a@b.com.png"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "lookup", "arguments": "{\"email\": \"bob@example.org\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "bob@example.org has 2 orders"}
        ],
        "user": "jane@example.com"
    });
    let g = rule("pii", &[Kind::Email, Kind::PaymentCard], Action::Mask, true);
    let applied = apply(&mut body, &[&g]).unwrap();
    let m = &body["messages"];
    assert_eq!(m[0]["content"], "Mail <EMAIL_1> for help.");
    assert_eq!(
        m[1]["content"][0]["text"],
        "I am <EMAIL_1>, card <CREDIT_CARD_1>"
    );
    // URLs, ids and fields the model does not read are left alone.
    assert_eq!(
        m[1]["content"][1]["image_url"]["url"],
        "https://x.test/a@b.com.png"
    );
    assert_eq!(body["user"], "jane@example.com");
    assert_eq!(
        m[2]["tool_calls"][0]["function"]["arguments"],
        "{\"email\": \"<EMAIL_2>\"}"
    );
    assert_eq!(m[3]["content"], "<EMAIL_2> has 2 orders");
    assert_eq!(
        applied.decisions,
        vec![Decision {
            guardrail: "pii".into(),
            action: Action::Mask,
            kinds: vec![("EMAIL".into(), 4), ("CREDIT_CARD".into(), 1)],
        }]
    );
    assert!(!applied.sensitive);
    // No value in the decision's text.
    assert!(!format!("{:?}", applied.decisions).contains("example"));

    let masker = applied.restore.expect("restore requested");
    let mut reply = serde_json::json!({"choices": [{"index": 0, "message": {
        "role": "assistant", "content": "Sent to <EMAIL_1>; <UNKNOWN_1> stays.",
        "tool_calls": [{"id": "c2", "type": "function",
            "function": {"name": "mail", "arguments": "{\"to\": \"<EMAIL_2>\"}"}}]}}]});
    restore_reply(&mut reply, &masker);
    let msg = &reply["choices"][0]["message"];
    assert_eq!(
        msg["content"],
        "Sent to jane@example.com; <UNKNOWN_1> stays."
    );
    assert_eq!(
        msg["tool_calls"][0]["function"]["arguments"],
        "{\"to\": \"bob@example.org\"}"
    );
}

/// A transcription's text (with its segments and words) and an image's revised prompt
/// are texts a model wrote: checked after the call and restored like a chat reply; a
/// Responses reply's `text` (its format, an object) is not.
#[test]
fn transcripts_and_revised_prompts_are_reply_texts() {
    let mut reply = serde_json::json!({
        "text": "call jane@example.com", "segments": [{"id": 0, "text": "call jane@example.com"}],
        "words": [{"word": "jane@example.com", "start": 0.0}],
        "data": [{"url": "https://x.test/a@b.com.png", "revised_prompt": "for jane@example.com"}],
    });
    let g = rule("pii", &[Kind::Email], Action::Mask, true);
    let applied = request::apply_reply(&mut reply, &[&g]).unwrap();
    assert_eq!(reply["text"], "call <EMAIL_1>");
    assert_eq!(reply["segments"][0]["text"], "call <EMAIL_1>");
    assert_eq!(reply["words"][0]["word"], "<EMAIL_1>");
    assert_eq!(reply["data"][0]["revised_prompt"], "for <EMAIL_1>");
    assert_eq!(reply["data"][0]["url"], "https://x.test/a@b.com.png");
    assert_eq!(applied.decisions[0].kinds, vec![("EMAIL".into(), 4)]);
    let masker = applied.restore.expect("restore requested");
    restore_reply(&mut reply, &masker);
    assert_eq!(reply["text"], "call jane@example.com");
    assert_eq!(reply["words"][0]["word"], "jane@example.com");
    let mut responses = serde_json::json!({"text": {"format": {"type": "text"}}, "output": []});
    let before = responses.clone();
    request::apply_reply(&mut responses, &[&g]).unwrap();
    assert_eq!(responses, before);
}

#[test]
fn apply_blocks_before_anything_changes_and_names_no_value() {
    let original = serde_json::json!({"messages": [
        {"role": "user", "content": "ssn 123-45-6789 and me@example.com"}]});
    let mut body = original.clone();
    let mask = rule("mask-mail", &[Kind::Email], Action::Mask, false);
    let block = rule("no-ssn", &[Kind::UsSsn], Action::Block, false);
    let err = apply(&mut body, &[&mask, &block]).unwrap_err();
    assert_eq!(body, original);
    assert_eq!(err.0.guardrail, "no-ssn");
    assert_eq!(
        err.message(),
        "Blocked entity detected: US_SSN by Guardrail: no-ssn. This entity is not allowed to be used in this request."
    );
    assert!(!err.message().contains("6789"));
    // Nothing found: nothing decided, the body untouched.
    let mut clean = serde_json::json!({"messages": [{"role": "user", "content": "hello"}]});
    let applied = apply(&mut clean, &[&mask, &block]).unwrap();
    assert!(applied.decisions.is_empty() && applied.restore.is_none());
}

#[test]
fn apply_covers_anthropic_responses_completion_and_embedding_shapes() {
    let g = rule("m", &[Kind::Email], Action::Mask, false);
    let mut anthropic = serde_json::json!({
        "system": [{"type": "text", "text": "ops a@example.com"}],
        "messages": [{"role": "assistant", "content": [
            {"type": "tool_use", "id": "t", "name": "f", "input": {"to": ["b@example.com"]}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                "content": [{"type": "text", "text": "c@example.com ok"}]}]}]});
    apply(&mut anthropic, &[&g]).unwrap();
    assert_eq!(anthropic["system"][0]["text"], "ops <EMAIL_1>");
    assert_eq!(
        anthropic["messages"][0]["content"][0]["input"]["to"][0],
        "<EMAIL_2>"
    );
    assert_eq!(
        anthropic["messages"][1]["content"][0]["content"][0]["text"],
        "<EMAIL_3> ok"
    );

    let mut responses = serde_json::json!({"instructions": "x@example.com",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "y@example.com"}]},
                  {"type": "function_call_output", "call_id": "c", "output": "z@example.com"}]});
    apply(&mut responses, &[&g]).unwrap();
    assert_eq!(responses["instructions"], "<EMAIL_1>");
    assert_eq!(responses["input"][0]["content"][0]["text"], "<EMAIL_2>");
    assert_eq!(responses["input"][1]["output"], "<EMAIL_3>");

    let mut emb = serde_json::json!({"input": ["p@example.com", "q"], "model": "e"});
    apply(&mut emb, &[&g]).unwrap();
    assert_eq!(emb["input"], serde_json::json!(["<EMAIL_1>", "q"]));
    let mut tokens = serde_json::json!({"input": [[1, 2, 3]], "prompt": "r@example.com"});
    apply(&mut tokens, &[&g]).unwrap();
    assert_eq!(tokens["input"], serde_json::json!([[1, 2, 3]]));
    assert_eq!(tokens["prompt"], "<EMAIL_1>");
}

#[test]
fn route_and_log_let_the_request_through_unchanged() {
    let route = rule("local-only", &[Kind::CnResidentId], Action::Route, false);
    let log = rule("watch", &[Kind::Email], Action::Log, false);
    let original = serde_json::json!({"messages": [
        {"role": "user", "content": "身份证 11010519491231002X, a@example.com"}]});
    let mut body = original.clone();
    let applied = apply(&mut body, &[&route, &log]).unwrap();
    assert_eq!(body, original);
    assert!(applied.sensitive);
    assert_eq!(applied.decisions.len(), 2);
    assert_eq!(applied.decisions[0].kinds, vec![("CN_ID".to_string(), 1)]);
}

#[test]
fn stream_restorer_restores_placeholders_split_across_deltas_per_slot() {
    let g = rule("m", &[Kind::Email], Action::Mask, true);
    let mut body = serde_json::json!({"messages": [{"role": "user", "content": "a@example.com b@example.com"}]});
    let masker = apply(&mut body, &[&g]).unwrap().restore.unwrap();
    let mut r = StreamRestorer::new(masker);
    let mut out0 = String::new();
    let mut out1 = String::new();
    for (slot, delta) in [
        ("0", "Hi <EM"),
        ("1", "<EMAIL_2"),
        ("0", "AIL_1>, <"),
        ("1", ">!"),
        ("0", "3 is less"),
    ] {
        let s = r.push(slot, delta);
        if slot == "0" {
            out0.push_str(&s)
        } else {
            out1.push_str(&s)
        }
    }
    // "<3" cannot start a placeholder, so nothing of slot 0 is held; a cut-off
    // placeholder at a stream's end comes out as it was.
    assert!(r.pending().is_empty());
    assert_eq!(r.push("2", "x <EMAI"), "x ");
    assert_eq!(r.pending(), vec!["2".to_string()]);
    assert_eq!(r.finish("2"), "<EMAI");
    out0.push_str(&r.finish("0"));
    out1.push_str(&r.finish("1"));
    assert_eq!(out0, "Hi a@example.com, <3 is less");
    assert_eq!(out1, "b@example.com!");
}

#[test]
fn config_entries_make_one_guardrail_per_action() {
    let params = serde_json::json!({
        "guardrail": "rustllm", "mode": "pre_call",
        "detect": ["email", "credit_card"],
        "patterns": {"EMPLOYEE_ID": "E-[0-9]{6}"},
        "words": {"PROJECT": ["Atlas"]},
        "action": "mask", "restore": true
    });
    let gs = config::from_params("pii", params.as_object().unwrap()).unwrap();
    assert_eq!(gs.len(), 1);
    assert_eq!(
        (gs[0].action, gs[0].restore, gs[0].detectors.len()),
        (Action::Mask, true, 4)
    );
    let mut body = serde_json::json!({"messages": [{"role": "user",
        "content": "E-123456 on atlas: a@example.com"}]});
    apply(&mut body, &[&gs[0]]).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        "<EMPLOYEE_ID_1> on <PROJECT_1>: <EMAIL_1>"
    );

    // LiteLLM's Presidio spelling: an action per entity, output_parse_pii for restore.
    let presidio = serde_json::json!({"guardrail": "presidio", "output_parse_pii": true,
        "pii_entities_config": {"CREDIT_CARD": "BLOCK", "EMAIL_ADDRESS": "MASK"}});
    let gs = config::from_params("p", presidio.as_object().unwrap()).unwrap();
    let actions: Vec<(Action, bool)> = gs.iter().map(|g| (g.action, g.restore)).collect();
    assert_eq!(actions, vec![(Action::Block, false), (Action::Mask, true)]);
    assert!(config::is_builtin("presidio") && !config::is_builtin("my_module.MyGuard"));
}

#[test]
fn config_errors_name_the_guardrail_and_the_field() {
    let cases = [
        (serde_json::json!({}), "nothing to detect"),
        (
            serde_json::json!({"detect": ["email", "passport"]}),
            "detect: unknown detector \"passport\"",
        ),
        (
            serde_json::json!({"detect": "email"}),
            "detect: expected a list",
        ),
        (
            serde_json::json!({"detect": ["email"], "action": "redact"}),
            "action: guardrail action \"redact\"",
        ),
        (
            serde_json::json!({"detect": ["email"], "restore": "yes"}),
            "restore: expected true or false",
        ),
        (
            serde_json::json!({"patterns": {"X": "(unclosed"}}),
            "patterns: guardrail pattern \"X\"",
        ),
        (
            serde_json::json!({"words": {"X": []}}),
            "words: X: expected a list of words",
        ),
        (
            serde_json::json!({"pii_entities_config": {"PERSON": "MASK"}}),
            "entity \"PERSON\" is not one rustllm detects",
        ),
    ];
    for (params, expected) in cases {
        let e = config::from_params("g1", params.as_object().unwrap()).unwrap_err();
        assert!(e.starts_with("guardrail \"g1\""), "{e}");
        assert!(e.contains(expected), "{e} (expected {expected})");
    }
}

fn out_guard(action: Action) -> Guardrail {
    Guardrail {
        name: "out".into(),
        detectors: vec![Detector::Builtin(Kind::Email)],
        action,
        restore: false,
    }
}

#[test]
fn masks_chat_text_completion_and_tool_arguments_in_place() {
    let mut reply = serde_json::json!({
        "id": "r1",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
             "content": "mail a@b.co",
             "tool_calls": [{"id": "t", "type": "function",
                             "function": {"name": "f", "arguments": "{\"to\":\"c@d.io\"}"}}]}},
            {"index": 1, "text": "or a@b.co"}
        ],
        "usage": {"total_tokens": 3}
    });
    let g = out_guard(Action::Mask);
    let applied = request::apply_reply(&mut reply, &[&g]).expect("not blocked");
    assert_eq!(applied.decisions[0].kinds, vec![("EMAIL".to_string(), 3)]);
    assert!(applied.restore.is_none(), "restore was not asked for");
    assert_eq!(reply["choices"][0]["message"]["content"], "mail <EMAIL_1>");
    assert_eq!(
        reply["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"to\":\"<EMAIL_2>\"}"
    );
    assert_eq!(reply["choices"][1]["text"], "or <EMAIL_1>");
    // Everything else is kept.
    assert_eq!(reply["id"], "r1");
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
    assert_eq!(reply["usage"]["total_tokens"], 3);
}

#[test]
fn blocks_and_leaves_the_reply_whole() {
    let mut reply = serde_json::json!({"content": [{"type": "text", "text": "x a@b.co"}]});
    let before = reply.clone();
    let g = out_guard(Action::Block);
    let blocked = request::apply_reply(&mut reply, &[&g]).expect_err("blocked");
    assert_eq!(blocked.0.kinds_text(), "EMAIL");
    assert_eq!(reply, before);
    // Nothing found: let through, unchanged, no decision.
    let mut clean = serde_json::json!({"output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}]});
    let applied = request::apply_reply(&mut clean, &[&g]).expect("clean");
    assert!(applied.decisions.is_empty());
    assert_eq!(clean["output"][0]["content"][0]["text"], "hi");
}

#[test]
fn a_reply_that_is_not_an_object_is_let_through() {
    let g = out_guard(Action::Block);
    assert!(request::apply_reply(&mut serde_json::json!("text a@b.co"), &[&g]).is_ok());
    assert!(request::apply_reply(&mut serde_json::json!({"choices": "x"}), &[&g]).is_ok());
}

#[test]
fn rerank_query_and_documents_are_texts_too() {
    let g = rule("m", &[Kind::Email], Action::Mask, false);
    let mut body = serde_json::json!({"model": "rerank-v3.5", "query": "who is a@example.com",
        "documents": ["b@example.com wrote", {"text": "c@example.com replied", "id": "d1"}], "top_n": 2});
    apply(&mut body, &[&g]).unwrap();
    assert_eq!(body["query"], "who is <EMAIL_1>");
    assert_eq!(body["documents"][0], "<EMAIL_2> wrote");
    assert_eq!(
        body["documents"][1],
        serde_json::json!({"text": "<EMAIL_3> replied", "id": "d1"})
    );
}
