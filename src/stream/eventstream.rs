//! AWS event-stream framing (`application/vnd.amazon.eventstream`), as Bedrock's
//! ConverseStream sends it.
//!
//! A frame is: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes,
//! the headers, the payload, and the CRC32 of everything before it. Headers are
//! `name_len (u8) name type (u8) value`; only string values (type 7) matter here, the
//! other types are skipped by their size. Each frame becomes one [`SseEvent`]:
//!
//! * `:message-type` `event`: `event` is the `:event-type` header, `data` the payload;
//! * `exception`: `event` is `exception:<:exception-type>`, `data` the payload;
//! * `error`: `event` is `error:<:error-code>`, `data` the `:error-message` header.
//!
//! A corrupt frame (bad CRC, impossible lengths) yields one `event` [`FRAMING_ERROR`] whose
//! data says what was wrong; nothing after it is decoded (the byte stream cannot be
//! re-synchronised).

use super::sse::SseEvent;

/// The event name of a framing failure.
pub const FRAMING_ERROR: &str = "eventstream-framing-error";

/// Frames larger than this are refused (AWS caps messages at 16 MiB).
const MAX_FRAME: usize = 16 * 1024 * 1024;

const PRELUDE: usize = 12;

/// CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), the table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c = CRC_TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Incremental decoder: bytes in any split, whole frames out.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buf: Vec<u8>,
    failed: bool,
    /// The start of a UTF-8 character cut at the end of the last `PayloadPart` frame:
    /// SageMaker's frames carry a container's byte stream cut anywhere, so a character
    /// may span two frames; it is completed by the next one instead of becoming U+FFFD.
    partial: Vec<u8>,
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, why: String, out: &mut Vec<SseEvent>) {
        self.failed = true;
        self.buf.clear();
        out.push(SseEvent {
            event: Some(FRAMING_ERROR.to_string()),
            data: why,
        });
    }

    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        if self.failed {
            return;
        }
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while self.buf.len() - start >= PRELUDE {
            let frame = &self.buf[start..];
            let total = be32(&frame[0..4]) as usize;
            let headers_len = be32(&frame[4..8]) as usize;
            if crc32(&frame[0..8]) != be32(&frame[8..12]) {
                return self.fail("prelude CRC mismatch".into(), out);
            }
            if !(PRELUDE + 4..=MAX_FRAME).contains(&total) || headers_len > total - PRELUDE - 4 {
                return self.fail(
                    format!("impossible frame lengths ({total}, {headers_len})"),
                    out,
                );
            }
            if frame.len() < total {
                break;
            }
            let frame = &frame[..total];
            if crc32(&frame[..total - 4]) != be32(&frame[total - 4..]) {
                return self.fail("message CRC mismatch".into(), out);
            }
            let headers = &frame[PRELUDE..PRELUDE + headers_len];
            let payload = &frame[PRELUDE + headers_len..total - 4];
            match parse_headers(headers) {
                Some(h) if is_payload_part(&h) => {
                    let mut bytes = std::mem::take(&mut self.partial);
                    bytes.extend_from_slice(payload);
                    let whole = match std::str::from_utf8(&bytes) {
                        Err(e) if e.error_len().is_none() => e.valid_up_to(),
                        _ => bytes.len(),
                    };
                    self.partial = bytes.split_off(whole);
                    out.push(to_event(&h, &bytes));
                }
                Some(h) => out.push(to_event(&h, payload)),
                None => return self.fail("malformed headers".into(), out),
            }
            start += total;
        }
        self.buf.drain(..start);
    }

    /// The body ended: leftover bytes are a truncated frame.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.failed && !self.buf.is_empty() {
            let n = self.buf.len();
            self.fail(
                format!("the stream ended inside a frame ({n} bytes left)"),
                out,
            );
        }
    }
}

fn is_payload_part(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(k, v)| k == ":event-type" && v == "PayloadPart")
}

fn to_event(headers: &[(String, String)], payload: &[u8]) -> SseEvent {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let data = String::from_utf8_lossy(payload).into_owned();
    match get(":message-type").unwrap_or("event") {
        "exception" => SseEvent {
            event: Some(format!(
                "exception:{}",
                get(":exception-type").unwrap_or("UnknownException")
            )),
            data,
        },
        "error" => SseEvent {
            event: Some(format!(
                "error:{}",
                get(":error-code").unwrap_or("UnknownError")
            )),
            data: get(":error-message").unwrap_or_default().to_string(),
        },
        _ => SseEvent {
            event: get(":event-type").map(str::to_string),
            data,
        },
    }
}

/// String-valued headers; other value types are skipped. `None` when malformed.
fn parse_headers(mut b: &[u8]) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let name_len = *b.first()? as usize;
        let name = b.get(1..1 + name_len)?;
        let name = String::from_utf8_lossy(name).into_owned();
        b = b.get(1 + name_len..)?;
        let kind = *b.first()?;
        b = b.get(1..)?;
        let fixed = match kind {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            4 => 4,
            5 | 8 => 8,
            9 => 16,
            6 | 7 => {
                let len = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
                let value = b.get(2..2 + len)?;
                if kind == 7 {
                    out.push((name, String::from_utf8_lossy(value).into_owned()));
                }
                b = b.get(2 + len..)?;
                continue;
            }
            _ => return None,
        };
        b = b.get(fixed..)?;
    }
    Some(out)
}

/// One frame with string headers (for the mock server and tests).
pub fn encode_frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        h.push(name.len() as u8);
        h.extend_from_slice(name);
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value);
    }
    let total = PRELUDE + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// An `event` frame as Bedrock sends it.
pub fn event_frame(event_type: &str, payload: &[u8]) -> Vec<u8> {
    encode_frame(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_character_cut_between_payload_parts_is_kept_whole() {
        let text = "é€😀".as_bytes();
        let mut d = EventStreamDecoder::new();
        let mut out = Vec::new();
        // Cut inside each character: PayloadPart frames carry raw bytes.
        for chunk in [&text[..1], &text[1..3], &text[3..6], &text[6..]] {
            d.push(&event_frame("PayloadPart", chunk), &mut out);
        }
        let joined: String = out.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(joined, "é€😀");
        assert!(!joined.contains('\u{FFFD}'));
        // Other events are decoded per frame, as before.
        let mut out = Vec::new();
        d.push(&event_frame("chunk", &text[..1]), &mut out);
        assert_eq!(out[0].data, "\u{FFFD}");
    }

    #[test]
    fn frames_split_at_every_byte() {
        let mut bytes = event_frame("messageStart", br#"{"role":"assistant"}"#);
        bytes.extend(encode_frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "ThrottlingException"),
            ],
            br#"{"message":"slow down"}"#,
        ));
        bytes.extend(encode_frame(
            &[
                (":message-type", "error"),
                (":error-code", "InternalFailure"),
                (":error-message", "boom"),
            ],
            b"",
        ));
        for split in 0..bytes.len() {
            let mut d = EventStreamDecoder::new();
            let mut out = Vec::new();
            d.push(&bytes[..split], &mut out);
            d.push(&bytes[split..], &mut out);
            d.finish(&mut out);
            assert_eq!(out.len(), 3, "split at {split}");
            assert_eq!(out[0].event.as_deref(), Some("messageStart"));
            assert_eq!(out[0].data, r#"{"role":"assistant"}"#);
            assert_eq!(
                out[1].event.as_deref(),
                Some("exception:ThrottlingException")
            );
            assert_eq!(out[2].event.as_deref(), Some("error:InternalFailure"));
            assert_eq!(out[2].data, "boom");
        }
        // One byte at a time.
        let mut d = EventStreamDecoder::new();
        let mut out = Vec::new();
        for b in &bytes {
            d.push(std::slice::from_ref(b), &mut out);
        }
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn bad_crcs_and_truncation_are_reported_once() {
        let good = event_frame("messageStop", br#"{"stopReason":"end_turn"}"#);
        let mut bad_message = good.clone();
        let n = bad_message.len();
        bad_message[n - 6] ^= 0x01; // a payload byte
        let mut d = EventStreamDecoder::new();
        let mut out = Vec::new();
        d.push(&bad_message, &mut out);
        d.push(&good, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].event.as_deref(), Some(FRAMING_ERROR));
        assert!(out[0].data.contains("message CRC"));

        let mut bad_prelude = good.clone();
        bad_prelude[9] ^= 0xFF;
        let mut d = EventStreamDecoder::new();
        let mut out = Vec::new();
        d.push(&bad_prelude, &mut out);
        assert!(out[0].data.contains("prelude CRC"));

        let mut d = EventStreamDecoder::new();
        let mut out = Vec::new();
        d.push(&good[..good.len() - 3], &mut out);
        assert!(out.is_empty());
        d.finish(&mut out);
        assert_eq!(out[0].event.as_deref(), Some(FRAMING_ERROR));
    }
}
