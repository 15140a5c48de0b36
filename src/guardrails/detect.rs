//! Sensitive data in text, found in one pass per detector without regular expressions
//! (fast enough for every request): e-mail addresses, phone numbers (international,
//! North American and mainland-China formats), payment card numbers (Luhn-checked),
//! IBANs (mod-97-checked), mainland-China resident ID numbers (checksum and birth date
//! checked), US social security numbers, IP addresses, API keys and secrets (known
//! provider prefixes, private-key blocks, high-entropy tokens), plus user-supplied
//! regular expressions and word lists.
//!
//! A finding never starts or ends inside a longer word or number: `a@b.co` inside
//! `xa@b.co` is the whole address, a card number inside a longer digit run is not one.
//! Checksums keep look-alikes out (an order number of 16 digits that fails Luhn is not a
//! card).

use std::cell::{Cell, OnceCell};
use std::ops::Range;

/// What a finding is, as its placeholder names it (`<EMAIL_1>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    Email,
    Phone,
    PaymentCard,
    Iban,
    CnResidentId,
    UsSsn,
    IpAddress,
    Secret,
    /// A user-supplied pattern or word list, by its name (upper-cased in placeholders).
    Custom(String),
}

impl Kind {
    /// The placeholder's name: `EMAIL`, `PHONE`, ..., a custom detector's name upper-cased.
    pub fn label(&self) -> String {
        match self {
            Kind::Email => "EMAIL".into(),
            Kind::Phone => "PHONE".into(),
            Kind::PaymentCard => "CREDIT_CARD".into(),
            Kind::Iban => "IBAN".into(),
            Kind::CnResidentId => "CN_ID".into(),
            Kind::UsSsn => "US_SSN".into(),
            Kind::IpAddress => "IP_ADDRESS".into(),
            Kind::Secret => "SECRET".into(),
            Kind::Custom(name) => name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect(),
        }
    }

    /// The built-in kind of a config name (`email`, `phone`, `credit_card`, `iban`,
    /// `cn_resident_id`, `us_ssn`, `ip_address`, `secret`).
    pub fn builtin(name: &str) -> Option<Kind> {
        Some(match name {
            "email" => Kind::Email,
            "phone" => Kind::Phone,
            "credit_card" | "payment_card" => Kind::PaymentCard,
            "iban" => Kind::Iban,
            "cn_resident_id" | "cn_id" => Kind::CnResidentId,
            "us_ssn" | "ssn" => Kind::UsSsn,
            "ip_address" | "ip" => Kind::IpAddress,
            "secret" | "api_key" => Kind::Secret,
            _ => return None,
        })
    }

    /// Every built-in kind.
    pub const BUILTIN: [Kind; 8] = [
        Kind::Email,
        Kind::Phone,
        Kind::PaymentCard,
        Kind::Iban,
        Kind::CnResidentId,
        Kind::UsSsn,
        Kind::IpAddress,
        Kind::Secret,
    ];
}

/// One piece of sensitive data: its kind and its byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub range: Range<usize>,
}

/// A detector: a built-in kind, a user pattern or a word list.
#[derive(Debug, Clone)]
pub enum Detector {
    Builtin(Kind),
    /// A regular expression (the `regex` crate's syntax: linear time, no backtracking, so
    /// a pattern cannot stall a request).
    Pattern {
        name: String,
        regex: regex::Regex,
    },
    /// Whole words, matched case-insensitively.
    Words {
        name: String,
        words: Vec<String>,
    },
}

impl Detector {
    /// A user pattern, or an error naming what is wrong with it.
    pub fn pattern(name: &str, pattern: &str) -> Result<Detector, String> {
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("guardrail pattern {name:?}: {e}"))?;
        Ok(Detector::Pattern {
            name: name.to_string(),
            regex,
        })
    }

    /// A word list (empty words are ignored).
    pub fn words(name: &str, words: &[String]) -> Detector {
        Detector::Words {
            name: name.to_string(),
            words: words
                .iter()
                .map(|w| w.trim().to_ascii_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
        }
    }

    fn find_into<'t>(&self, text: &'t str, digits: &OnceCell<Digits<'t>>, out: &mut Vec<Finding>) {
        match self {
            Detector::Builtin(kind) => builtin(kind, text, digits, out),
            Detector::Pattern { name, regex } => {
                for m in regex.find_iter(text) {
                    if !m.range().is_empty() {
                        out.push(Finding {
                            kind: Kind::Custom(name.clone()),
                            range: m.range(),
                        });
                    }
                }
            }
            Detector::Words { name, words } => find_words(name, words, text, out),
        }
    }
}

/// Everything `detectors` find in `text`, in order, without overlaps: where two findings
/// overlap the earlier-starting (then the longer) one is kept.
pub fn find(text: &str, detectors: &[Detector]) -> Vec<Finding> {
    let mut out = Vec::new();
    // Where the digits are, found once for all the detectors that start at one.
    let digits = OnceCell::new();
    for d in detectors {
        d.find_into(text, &digits, &mut out);
    }
    out.sort_by(|a, b| {
        a.range
            .start
            .cmp(&b.range.start)
            .then(b.range.end.cmp(&a.range.end))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(out.len());
    for f in out {
        if kept
            .last()
            .is_none_or(|last| f.range.start >= last.range.end)
        {
            kept.push(f);
        }
    }
    kept
}

fn builtin<'t>(kind: &Kind, text: &'t str, digits: &OnceCell<Digits<'t>>, out: &mut Vec<Finding>) {
    let push = |out: &mut Vec<Finding>, range: Range<usize>| {
        out.push(Finding {
            kind: kind.clone(),
            range,
        })
    };
    let b = text.as_bytes();
    let d = || digits.get_or_init(|| Digits::of(b));
    match kind {
        Kind::Email => {
            for at in memchr::memchr_iter(b'@', b) {
                if let Some(r) = email_at(b, at) {
                    push(out, r);
                }
            }
        }
        Kind::Phone => phones(d(), &mut |r| push(out, r)),
        Kind::PaymentCard => digit_groups(d(), 13, 19, &mut |r, digits| {
            if card_prefix(digits) && luhn(digits) {
                push(out, r);
            }
        }),
        Kind::Iban => ibans(d(), &mut |r| push(out, r)),
        Kind::CnResidentId => cn_ids(d(), &mut |r| push(out, r)),
        Kind::UsSsn => ssns(d(), &mut |r| push(out, r)),
        Kind::IpAddress => ips(text, &mut |r| push(out, r)),
        Kind::Secret => secrets(text, &mut |r| push(out, r)),
        Kind::Custom(_) => {}
    }
}

/// The first position at or after `from` holding an ASCII digit (`b.len()` if none),
/// eight bytes at a time: prompts are mostly letters, and most detectors start only at a
/// digit.
fn next_digit(b: &[u8], mut from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte is a digit when (byte ^ 0x30) < 10; `has_less` finds any such byte (bytes
    // >= 0x80 are excluded first, so no borrow crosses bytes wrongly).
    let digits_in = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[at..at + 8]);
        let v = u64::from_le_bytes(word);
        let y = v ^ (0x30 * ONES);
        y.wrapping_sub(10 * ONES) & !y & HIGHS & !(v & HIGHS)
    };
    while from + 16 <= b.len() && digits_in(from) | digits_in(from + 8) == 0 {
        from += 16;
    }
    while from + 8 <= b.len() && digits_in(from) == 0 {
        from += 8;
    }
    while from < b.len() && !b[from].is_ascii_digit() {
        from += 1;
    }
    from
}

/// The runs of ASCII digits in a text, for the detectors that start at a digit: one scan
/// of the text instead of one per detector.
struct Digits<'a> {
    b: &'a [u8],
    runs: Vec<Range<usize>>,
    /// The run the last [`Digits::next`] ended in: a detector asks in increasing order.
    at: Cell<usize>,
}

impl<'a> Digits<'a> {
    fn of(b: &'a [u8]) -> Digits<'a> {
        let mut runs = Vec::new();
        let mut i = next_digit(b, 0);
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push(start..i);
            i = next_digit(b, i);
        }
        Digits {
            b,
            runs,
            at: Cell::new(0),
        }
    }

    /// The first position at or after `from` holding a digit (`b.len()` if none).
    fn next(&self, from: usize) -> usize {
        if self.b.get(from).is_some_and(u8::is_ascii_digit) {
            return from;
        }
        let mut k = self.at.get();
        if k > 0 && self.runs.get(k - 1).is_some_and(|r| r.end > from) {
            // Asked about an earlier place (the next detector): search.
            k = self.runs.partition_point(|r| r.end <= from);
        }
        while self.runs.get(k).is_some_and(|r| r.end <= from) {
            k += 1;
        }
        self.at.set(k);
        self.runs.get(k).map_or(self.b.len(), |r| r.start.max(from))
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Whether `range` stands alone: no letter or digit touches either end.
fn alone(b: &[u8], start: usize, end: usize) -> bool {
    (start == 0 || !b[start - 1].is_ascii_alphanumeric())
        && (end >= b.len() || !b[end].is_ascii_alphanumeric())
}

/// Whether a number at `start..end` stands alone: [`alone`], and not continued by a
/// separator and another digit on either side (`123-45-6789-1` is not an SSN).
fn number_alone(b: &[u8], start: usize, end: usize) -> bool {
    let sep = |c: u8| matches!(c, b'-' | b'.' | b'/');
    alone(b, start, end)
        && !(start >= 2 && sep(b[start - 1]) && b[start - 2].is_ascii_digit())
        && !(end + 1 < b.len() && sep(b[end]) && b[end + 1].is_ascii_digit())
}

fn email_at(b: &[u8], at: usize) -> Option<Range<usize>> {
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let mut start = at;
    while start > 0 && local(b[start - 1]) {
        start -= 1;
    }
    // A local part does not start or end with a dot.
    while start < at && b[start] == b'.' {
        start += 1;
    }
    if start == at || b[at - 1] == b'.' {
        return None;
    }
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    let mut end = at + 1;
    while end < b.len() && domain(b[end]) {
        end += 1;
    }
    // A sentence's full stop or a trailing hyphen is not part of the domain.
    while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let host = &b[at + 1..end];
    let dot = host.iter().rposition(|c| *c == b'.')?;
    let tld = &host[dot + 1..];
    let labels_ok = host
        .split(|c| *c == b'.')
        .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-');
    (tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) && labels_ok).then_some(start..end)
}

/// Runs of `min..=max` digits separated by single spaces or hyphens (as cards are
/// written), standing alone; `found` gets each run's range and its digits.
fn digit_groups(t: &Digits, min: usize, max: usize, found: &mut impl FnMut(Range<usize>, &[u8])) {
    let b = t.b;
    let mut i = 0;
    let mut digits = Vec::with_capacity(24);
    while i < b.len() {
        i = t.next(i);
        if i >= b.len() {
            break;
        }
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        digits.clear();
        let start = i;
        let mut end = i;
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_digit() {
                digits.push(b[j]);
                j += 1;
                end = j;
            } else if matches!(b[j], b' ' | b'-')
                && j + 1 < b.len()
                && b[j + 1].is_ascii_digit()
                && j > start
                && b[j - 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        if (min..=max).contains(&digits.len()) && number_alone(b, start, end) {
            found(start..end, &digits);
        }
        i = end.max(i + 1);
    }
}

/// Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
/// UnionPay, Maestro).
fn card_prefix(d: &[u8]) -> bool {
    let n = |k: usize| -> u32 {
        d[..k.min(d.len())]
            .iter()
            .fold(0, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    matches!(d[0], b'4')
        || (51..=55).contains(&n(2))
        || (2221..=2720).contains(&n(4))
        || matches!(
            n(2),
            34 | 37 | 36 | 38 | 62 | 65 | 35 | 50 | 56..=58 | 63 | 67
        )
        || n(4) == 6011
        || (644..=649).contains(&n(3))
        || (300..=305).contains(&n(3))
}

/// The Luhn check of a card number's digits.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths by country (ISO 13616's registry, the common ones); a country not listed
/// needs 15 to 34 characters.
fn iban_length(country: &[u8]) -> Option<usize> {
    Some(match country {
        b"AD" => 24,
        b"AE" => 23,
        b"AT" => 20,
        b"BE" => 16,
        b"BG" => 22,
        b"BH" => 22,
        b"BR" => 29,
        b"CH" => 21,
        b"CY" => 28,
        b"CZ" => 24,
        b"DE" => 22,
        b"DK" => 18,
        b"EE" => 20,
        b"ES" => 24,
        b"FI" => 18,
        b"FR" => 27,
        b"GB" => 22,
        b"GR" => 27,
        b"HR" => 21,
        b"HU" => 28,
        b"IE" => 22,
        b"IL" => 23,
        b"IS" => 26,
        b"IT" => 27,
        b"LI" => 21,
        b"LT" => 20,
        b"LU" => 20,
        b"LV" => 21,
        b"MC" => 27,
        b"MT" => 31,
        b"NL" => 18,
        b"NO" => 15,
        b"PL" => 28,
        b"PT" => 25,
        b"RO" => 24,
        b"SA" => 24,
        b"SE" => 24,
        b"SI" => 19,
        b"SK" => 24,
        b"SM" => 27,
        b"TR" => 26,
        _ => return None,
    })
}

/// ISO 7064 mod 97-10 over an IBAN's characters (country and check digits moved last).
pub fn iban_valid(chars: &[u8]) -> bool {
    if chars.len() < 15 || chars.len() > 34 {
        return false;
    }
    if iban_length(&chars[..2]).is_some_and(|n| n != chars.len()) {
        return false;
    }
    let mut rem: u32 = 0;
    for c in chars[4..].iter().chain(&chars[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// IBANs: two capital letters, two check digits, then letters and digits, written whole
/// or in groups of four separated by single spaces.
fn ibans(t: &Digits, found: &mut impl FnMut(Range<usize>)) {
    let b = t.b;
    let mut chars = Vec::with_capacity(34);
    let mut i = 0;
    while i + 4 <= b.len() {
        // An IBAN's first digit is its third character: find the next digit two places
        // on, and look at the two letters before it (prose has few digits).
        let d = t.next(i + 2);
        if d + 2 > b.len() {
            break;
        }
        i = d - 2;
        let starts = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        chars.clear();
        let mut j = i;
        let mut end = i;
        let mut best = None;
        while j < b.len() && chars.len() < 34 {
            let c = b[j];
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                chars.push(c);
                j += 1;
                end = j;
                if (end >= b.len() || !b[end].is_ascii_alphanumeric()) && iban_valid(&chars) {
                    best = Some(i..end);
                }
            } else if c == b' ' && chars.len() % 4 == 0 && j + 1 < b.len() {
                j += 1;
            } else {
                break;
            }
        }
        match best {
            Some(r) => {
                i = r.end;
                found(r);
            }
            None => i = end.max(i + 1),
        }
    }
}

/// Mainland-China resident ID numbers: 17 digits and a check character (a digit or X),
/// with a valid region's first digit, birth date and GB 11643 checksum.
fn cn_ids(t: &Digits, found: &mut impl FnMut(Range<usize>)) {
    let b = t.b;
    let mut i = 0;
    while i < b.len() {
        i = t.next(i);
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        // 17 digits and an X, or 18 digits, standing alone.
        let end = match i - start {
            17 if i < b.len() && matches!(b[i], b'X' | b'x') => i + 1,
            18 => i,
            _ => continue,
        };
        if alone(b, start, end) && cn_id_valid(&b[start..end]) {
            found(start..end);
        }
        i = end;
    }
}

/// GB 11643-1999: region, birth date and check character of an 18-character ID.
pub fn cn_id_valid(id: &[u8]) -> bool {
    if id.len() != 18 || !(b'1'..=b'8').contains(&id[0]) {
        return false;
    }
    let num = |r: Range<usize>| {
        id[r]
            .iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c.wrapping_sub(b'0')))
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > days {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = id[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    id[17].to_ascii_uppercase() == check
}

/// US social security numbers written `AAA-GG-SSSS` (or with spaces), with an area, group
/// and serial the SSA issues (not 000, 666 or 9xx; not 00; not 0000).
fn ssns(t: &Digits, found: &mut impl FnMut(Range<usize>)) {
    let b = t.b;
    let mut i = 0;
    while i + 11 <= b.len() {
        i = t.next(i);
        if i + 11 > b.len() {
            break;
        }
        if !matches!(b[i + 3], b'-' | b' ') {
            i += 1;
            continue;
        }
        let s = &b[i..i + 11];
        let digits = |r: Range<usize>| s[r].iter().all(u8::is_ascii_digit);
        let sep = s[3] == s[6] && matches!(s[3], b'-' | b' ');
        if sep && digits(0..3) && digits(4..6) && digits(7..11) && number_alone(b, i, i + 11) {
            let area = &s[0..3];
            let ok = area != b"000"
                && area != b"666"
                && area[0] != b'9'
                && &s[4..6] != b"00"
                && &s[7..11] != b"0000";
            if ok {
                found(i..i + 11);
                i += 11;
                continue;
            }
        }
        i += 1;
    }
}

/// Phone numbers: `+` and a country code with 8 to 15 digits in all (separators: single
/// spaces, hyphens, dots, one pair of parentheses); North American `(AAA) BBB-CCCC` and
/// `AAA-BBB-CCCC`; mainland-China mobiles (`1[3-9]` and 9 more digits, optionally after
/// `+86`/`0086`) and landlines (`0AA-BBBBBBBB`, `0AAA-BBBBBBB`).
fn phones(t: &Digits, found: &mut impl FnMut(Range<usize>)) {
    let b = t.b;
    let mut digits = Vec::with_capacity(32);
    let mut i = 0;
    while i < b.len() {
        // A number starts at a digit, or at the `+` or `(` just before one.
        let from = i;
        i = t.next(i);
        if i >= b.len() {
            break;
        }
        if i > from && matches!(b[i - 1], b'+' | b'(') {
            i -= 1;
        }
        let c = b[i];
        let fresh = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'+');
        if !fresh {
            i += 1;
            continue;
        }
        // The longest run of digits and separators from here.
        let mut j = i + usize::from(c == b'+');
        digits.clear();
        let mut end = j;
        let mut parens = 0;
        while j < b.len() {
            let d = b[j];
            if d.is_ascii_digit() {
                digits.push(d);
                j += 1;
                end = j;
            } else if d == b'(' && parens == 0 {
                parens = 1;
                j += 1;
            } else if d == b')' && parens == 1 {
                parens = 2;
                j += 1;
                end = j;
            } else if matches!(d, b' ' | b'-' | b'.')
                && j + 1 < b.len()
                && (b[j + 1].is_ascii_digit() || b[j + 1] == b'(')
                && j > i
                && (b[j - 1].is_ascii_digit() || b[j - 1] == b')')
            {
                j += 1;
            } else {
                break;
            }
        }
        let span = &b[i..end];
        let ok = (7..=15).contains(&digits.len())
            && alone(b, i, end)
            && parens != 1
            && if c == b'+' {
                (8..=15).contains(&digits.len()) && span.iter().filter(|x| **x == b'.').count() < 3
            } else {
                north_american(span) || chinese(span, &digits)
            };
        if ok {
            found(i..end);
            i = end;
        } else {
            i = end.max(i + 1);
        }
    }
}

/// `(AAA) BBB-CCCC`, `AAA-BBB-CCCC`, `AAA.BBB.CCCC`, `AAA BBB CCCC`, area not starting 0/1.
fn north_american(s: &[u8]) -> bool {
    let shape = |pattern: &[u8]| {
        s.len() == pattern.len()
            && s.iter().zip(pattern).all(|(c, p)| match p {
                b'9' => c.is_ascii_digit(),
                _ => c == p,
            })
    };
    let area = if s.first() == Some(&b'(') {
        s.get(1)
    } else {
        s.first()
    };
    let plausible = area.is_some_and(|a| (b'2'..=b'9').contains(a));
    plausible
        && (shape(b"(999) 999-9999")
            || shape(b"(999)999-9999")
            || shape(b"999-999-9999")
            || shape(b"999.999.9999")
            || shape(b"999 999 9999"))
}

/// Mainland-China mobiles (11 digits starting 1[3-9], grouped 3-4-4 or whole, optionally
/// after 86/0086) and landlines (0 + 2-3 digit area code, hyphen, 7-8 digits).
fn chinese(s: &[u8], digits: &[u8]) -> bool {
    let mobile = |d: &[u8]| d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]);
    let separators_ok = |s: &[u8]| {
        // Whole, or 3-4-4 groups.
        !s.contains(&b'.') && !s.contains(&b'(')
    };
    if separators_ok(s) {
        if mobile(digits) {
            return true;
        }
        if digits.starts_with(b"0086") && mobile(&digits[4..]) {
            return true;
        }
    }
    if s.first() == Some(&b'0') && !s.contains(&b' ') {
        if let Some(dash) = s.iter().position(|c| *c == b'-') {
            let (area, number) = (&s[..dash], &s[dash + 1..]);
            return (3..=4).contains(&area.len())
                && (7..=8).contains(&number.len())
                && number.iter().all(u8::is_ascii_digit)
                && number[0] != b'0';
        }
    }
    false
}

/// IPv4 dotted quads (each part 0-255, not part of a longer dotted number such as a
/// version string) and IPv6 addresses (as `std` parses them, with at least two colons).
fn ips(text: &str, found: &mut impl FnMut(Range<usize>)) {
    let b = text.as_bytes();
    // Every address holds a `.` or a `:`: find those, then the token around each.
    let mut from = 0;
    while let Some(k) = memchr::memchr2(b'.', b':', &b[from..]) {
        let k = from + k;
        // A dot of an address has a digit on each side (prose's full stops do not): the
        // token is judged at its first such dot or colon.
        let digit = |at: usize| b.get(at).is_some_and(u8::is_ascii_digit);
        if b[k] == b'.' && !(k > 0 && digit(k - 1) && digit(k + 1)) {
            from = k + 1;
            continue;
        }
        let mut i = k;
        while i > 0 && is_ip_char(b[i - 1]) {
            i -= 1;
        }
        let mut end = k;
        while end < b.len() && is_ip_char(b[end]) {
            end += 1;
        }
        from = end.max(k + 1);
        if !(b[i].is_ascii_hexdigit() || b[i] == b':') {
            continue;
        }
        // A sentence's full stop or a colon after the address is not part of it.
        let mut stop = end;
        while stop > i && matches!(b[stop - 1], b'.') {
            stop -= 1;
        }
        let token = &text[i..stop];
        if token.len() < 6 || !(token.contains('.') || token.contains(':')) {
            continue;
        }
        let v4 = token.split('.').count() == 4 && token.parse::<std::net::Ipv4Addr>().is_ok();
        // Short hex-letter pairs such as `a::b` are names more often than addresses.
        let v6 = token.matches(':').count() >= 2
            && token.len() >= 6
            && token.bytes().any(|c| c.is_ascii_digit())
            && token.parse::<std::net::Ipv6Addr>().is_ok();
        if (v4 || v6) && (end >= b.len() || !b[end].is_ascii_alphanumeric()) {
            found(i..stop);
        }
    }
}

fn is_ip_char(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':'
}

/// Provider key prefixes and the shortest token that follows each.
const SECRET_PREFIXES: [(&str, usize); 14] = [
    ("sk-ant-", 20),
    ("sk-proj-", 20),
    ("sk-", 20),
    ("AKIA", 16),
    ("ASIA", 16),
    ("ghp_", 30),
    ("gho_", 30),
    ("ghs_", 30),
    ("github_pat_", 30),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("AIza", 30),
    ("hf_", 30),
];

/// Which bytes a secret's token is made of, as a table (looked up for every byte).
const TOKEN_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/');
        c += 1;
    }
    t
};

fn is_token_char(c: u8) -> bool {
    TOKEN_CHARS[c as usize]
}

/// Secrets: a token starting with a provider's key prefix, a PEM private-key block, or a
/// token of 32+ characters of mixed letters and digits whose entropy is that of random
/// bytes (≥ 4 bits a character), which leaves words, hex hashes of text and ids alone...
/// mostly: a random-looking token is masked even when it is harmless, which is the safe
/// side for this detector.
fn secrets(text: &str, found: &mut impl FnMut(Range<usize>)) {
    let b = text.as_bytes();
    let mut blocks: Vec<Range<usize>> = Vec::new();
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&b[from..], b"-----BEGIN ") {
        let start = from + at;
        let header = text[start + 11..].find("-----").map(|e| start + 11 + e);
        let is_key = header.is_some_and(|e| text[start..e].ends_with("PRIVATE KEY"));
        let close = header.and_then(|e| text[e..].find("-----END ").map(|c| e + c));
        if let (true, Some(close)) = (is_key, close) {
            let stop = text[close + 9..]
                .find("-----")
                .map_or(text.len(), |x| close + 9 + x + 5);
            found(start..stop);
            blocks.push(start..stop);
            from = stop;
        } else {
            from = start + 11;
        }
    }
    // Only a token of 20+ characters can be a secret, and every such token starting in
    // `i..i + 20` covers `i + 19`: when that byte is no token character none starts there,
    // and the scan moves on 20 bytes (prose's words are short).
    let mut i = 0;
    while i + 20 <= b.len() {
        let probe = i + 19;
        if !is_token_char(b[probe]) {
            i = probe + 1;
            continue;
        }
        let mut start = probe;
        while start > i && is_token_char(b[start - 1]) {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < b.len() && is_token_char(b[end]) {
            end += 1;
        }
        i = end;
        // A key block's tokens (its last line's too) are part of the block's finding.
        if blocks.iter().any(|r| r.contains(&start)) {
            continue;
        }
        // A sentence's trailing hyphen or slash is not part of a token.
        let mut stop = end;
        while stop > start + 1 && matches!(b[stop - 1], b'-' | b'/' | b'+') {
            stop -= 1;
        }
        if stop - start >= 20 && is_secret(&text[start..stop]) {
            found(start..stop);
        }
    }
}

fn is_secret(token: &str) -> bool {
    for (prefix, min) in SECRET_PREFIXES {
        if let Some(rest) = token.strip_prefix(prefix) {
            let body_ok = rest.len() >= min
                && rest
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
            let upper = prefix.starts_with("AKIA") || prefix.starts_with("ASIA");
            if body_ok
                && (!upper
                    || rest
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
            {
                return true;
            }
        }
    }
    token.len() >= 32
        && token.bytes().any(|c| c.is_ascii_digit())
        && token.bytes().any(|c| c.is_ascii_lowercase())
        && token.bytes().any(|c| c.is_ascii_uppercase())
        && entropy(token.as_bytes()) >= 4.0
}

/// Shannon entropy, bits per byte.
fn entropy(b: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for c in b {
        counts[*c as usize] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Whole words of `words` in `text`, case-insensitively (ASCII case).
fn find_words(name: &str, words: &[String], text: &str, out: &mut Vec<Finding>) {
    if words.is_empty() {
        return;
    }
    let b = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    for w in words {
        let mut from = 0;
        while let Some(at) = lower[from..].find(w.as_str()) {
            let start = from + at;
            let end = start + w.len();
            let before = start == 0 || !is_word(b[start - 1]);
            let after = end >= b.len() || !is_word(b[end]);
            if before && after {
                out.push(Finding {
                    kind: Kind::Custom(name.to_string()),
                    range: start..end,
                });
            }
            from = start + w.len().max(1);
        }
    }
}

/// The scans that skip ahead (digits found once, secrets probed 20 bytes on, IBANs from
/// their first digit, addresses from a dot between digits) find exactly what the byte-by-byte scans they replaced find.
#[cfg(test)]
mod skip_scans {
    use super::*;

    /// The byte-by-byte IBAN scan the digit-anchored one replaced.
    fn ibans_bytewise(b: &[u8], found: &mut impl FnMut(Range<usize>)) {
        let mut chars = Vec::with_capacity(34);
        let mut i = 0;
        while i + 4 <= b.len() {
            let starts = b[i].is_ascii_uppercase()
                && b[i + 1].is_ascii_uppercase()
                && b[i + 2].is_ascii_digit()
                && b[i + 3].is_ascii_digit()
                && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
            if !starts {
                i += 1;
                continue;
            }
            chars.clear();
            let mut j = i;
            let mut end = i;
            let mut best = None;
            while j < b.len() && chars.len() < 34 {
                let c = b[j];
                if c.is_ascii_uppercase() || c.is_ascii_digit() {
                    chars.push(c);
                    j += 1;
                    end = j;
                    if (end >= b.len() || !b[end].is_ascii_alphanumeric()) && iban_valid(&chars) {
                        best = Some(i..end);
                    }
                } else if c == b' ' && chars.len() % 4 == 0 && j + 1 < b.len() {
                    j += 1;
                } else {
                    break;
                }
            }
            match best {
                Some(r) => {
                    i = r.end;
                    found(r);
                }
                None => i = end.max(i + 1),
            }
        }
    }

    /// The byte-by-byte token scan the probing one replaced.
    fn secrets_bytewise(text: &str, found: &mut impl FnMut(Range<usize>)) {
        let b = text.as_bytes();
        let mut blocks: Vec<Range<usize>> = Vec::new();
        let mut from = 0;
        while let Some(at) = memchr::memmem::find(&b[from..], b"-----BEGIN ") {
            let start = from + at;
            let header = text[start + 11..].find("-----").map(|e| start + 11 + e);
            let is_key = header.is_some_and(|e| text[start..e].ends_with("PRIVATE KEY"));
            let close = header.and_then(|e| text[e..].find("-----END ").map(|c| e + c));
            if let (true, Some(close)) = (is_key, close) {
                let stop = text[close + 9..]
                    .find("-----")
                    .map_or(text.len(), |x| close + 9 + x + 5);
                found(start..stop);
                blocks.push(start..stop);
                from = stop;
            } else {
                from = start + 11;
            }
        }
        let mut i = 0;
        while i < b.len() {
            if !blocks.is_empty() {
                if let Some(block) = blocks.iter().find(|r| r.contains(&i)) {
                    i = block.end;
                    continue;
                }
            }
            if !is_token_char(b[i]) {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < b.len() && is_token_char(b[end]) {
                end += 1;
            }
            if i > 0 && is_token_char(b[i - 1]) {
                // Inside a token already judged (a block's end): skip the rest of it.
                i = end;
                continue;
            }
            // A sentence's trailing hyphen or slash is not part of a token.
            while end > i + 1 && matches!(b[end - 1], b'-' | b'/' | b'+') {
                end -= 1;
            }
            // The shortest key a prefix names is 20 characters.
            if end - i >= 20 && is_secret(&text[i..end]) {
                found(i..end);
            }
            i = end.max(i + 1);
        }
    }

    /// The IP scan that judged the token around every dot.
    fn ips_bytewise(text: &str, found: &mut impl FnMut(Range<usize>)) {
        let b = text.as_bytes();
        // Every address holds a `.` or a `:`: find those, then the token around each.
        let mut from = 0;
        while let Some(k) = memchr::memchr2(b'.', b':', &b[from..]) {
            let k = from + k;
            let mut i = k;
            while i > 0 && is_ip_char(b[i - 1]) {
                i -= 1;
            }
            let mut end = k;
            while end < b.len() && is_ip_char(b[end]) {
                end += 1;
            }
            from = end.max(k + 1);
            if !(b[i].is_ascii_hexdigit() || b[i] == b':') {
                continue;
            }
            // A sentence's full stop or a colon after the address is not part of it.
            let mut stop = end;
            while stop > i && matches!(b[stop - 1], b'.') {
                stop -= 1;
            }
            let token = &text[i..stop];
            if token.len() < 6 || !(token.contains('.') || token.contains(':')) {
                continue;
            }
            let v4 = token.split('.').count() == 4 && token.parse::<std::net::Ipv4Addr>().is_ok();
            // Short hex-letter pairs such as `a::b` are names more often than addresses.
            let v6 = token.matches(':').count() >= 2
                && token.len() >= 6
                && token.bytes().any(|c| c.is_ascii_digit())
                && token.parse::<std::net::Ipv6Addr>().is_ok();
            if (v4 || v6) && (end >= b.len() || !b[end].is_ascii_alphanumeric()) {
                found(i..stop);
            }
        }
    }

    /// Texts of letters, digits, separators and the pieces the detectors look for, from a
    /// fixed seed.
    fn texts() -> Vec<String> {
        let pieces = [
            "a",
            "b",
            "Q",
            "Z",
            "DE",
            "GB",
            "0",
            "1",
            "7",
            "9",
            " ",
            " ",
            "-",
            "/",
            "+",
            "_",
            ".",
            ":",
            "\n",
            "sk-",
            "sk-proj-",
            "AKIA",
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----END RSA PRIVATE KEY-----",
            "-----BEGIN ",
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0LmNb",
            "é",
            "internationalization_",
            "1234",
            "4111 1111 1111 1111",
            "192.168.0.1",
            "1.2.3.4",
            "fe80::1",
            "::ffff:10.0.0.1",
            "2.3.1.",
            "a.b",
            "cafe:",
            "ab.",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..4000)
            .map(|_| {
                let n = (next() % 60) as usize;
                (0..n)
                    .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    fn collect(scan: impl FnOnce(&mut dyn FnMut(Range<usize>))) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        scan(&mut |r| out.push(r));
        out
    }

    #[test]
    fn skipping_scans_find_what_the_bytewise_scans_found() {
        let mut found = 0;
        for text in texts() {
            let b = text.as_bytes();
            let digits = Digits::of(b);
            for from in 0..=b.len() {
                assert_eq!(
                    digits.next(from),
                    next_digit(b, from),
                    "{text:?} from {from}"
                );
            }
            let old = collect(|f| ibans_bytewise(b, &mut |r| f(r)));
            assert_eq!(collect(|f| ibans(&digits, &mut |r| f(r))), old, "{text:?}");
            found += old.len();
            let old = collect(|f| ips_bytewise(&text, &mut |r| f(r)));
            assert_eq!(collect(|f| ips(&text, &mut |r| f(r))), old, "{text:?}");
            found += old.len();
            let old = collect(|f| secrets_bytewise(&text, &mut |r| f(r)));
            assert_eq!(collect(|f| secrets(&text, &mut |r| f(r))), old, "{text:?}");
            found += old.len();
        }
        // The texts hold what both scans look for.
        assert!(found > 1000, "{found}");
    }
}
