//! Server-sent events framing, incremental and linear.
//!
//! Real servers split events across reads at any byte, end lines with LF, CRLF or CR,
//! send `:` comments as keep-alives, spread one event's data over several `data:` lines,
//! and sometimes close without the final blank line. Bytes are scanned once: the decoder
//! remembers where it stopped looking for a line end, so a long line arriving in many
//! small reads stays linear (the quadratic reparse that bit eventsource-stream).

/// One complete event: its `event:` name (if any) and its data lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Incremental SSE decoder.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already known to hold no line end.
    scanned: usize,
    data: String,
    has_data: bool,
    event: Option<String>,
    /// The previous chunk ended in CR: a LF at the start of the next one belongs to it.
    pending_cr: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Feed bytes; returns the events they complete, in order.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        let mut bytes = bytes;
        if self.pending_cr {
            self.pending_cr = false;
            if bytes.first() == Some(&b'\n') {
                bytes = &bytes[1..];
            }
        }
        // The buffer is taken out while its lines are read in place (no copy per line).
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(bytes);
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(offset) = memchr::memchr2(b'\n', b'\r', &buf[from..]) {
            let line_end = from + offset;
            let mut next = line_end + 1;
            if buf[line_end] == b'\r' {
                if next < buf.len() {
                    if buf[next] == b'\n' {
                        next += 1;
                    }
                } else {
                    // CR at the very end: a following LF is part of this line end.
                    self.pending_cr = true;
                }
            }
            match std::str::from_utf8(&buf[start..line_end]) {
                Ok(line) => self.line(line, out),
                Err(_) => self.line(&String::from_utf8_lossy(&buf[start..line_end]), out),
            }
            start = next;
            from = next;
        }
        buf.drain(..start);
        self.scanned = buf.len();
        self.buf = buf;
    }

    /// The stream ended: a last event without its blank line still counts.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.buf.is_empty() {
            let line = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf.clear();
            self.scanned = 0;
            self.line(&line, out);
        }
        self.dispatch(out);
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
            });
        }
        self.has_data = false;
        self.event = None;
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return; // comment / keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {} // id, retry and unknown fields carry nothing for us
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(parts: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for p in parts {
            d.push(p, &mut out);
        }
        d.finish(&mut out);
        out
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn events_split_across_reads_at_any_byte() {
        let whole = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
        for cut in 0..whole.len() {
            let events = decode(&[&whole[..cut], &whole[cut..]]);
            assert_eq!(
                data(&events),
                ["{\"a\":1}", "{\"b\":2}", "[DONE]"],
                "cut at {cut}"
            );
        }
        let bytewise: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(
            data(&decode(&bytewise)),
            ["{\"a\":1}", "{\"b\":2}", "[DONE]"]
        );
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        assert_eq!(
            data(&decode(&[b"data: x\r\n\r\ndata: y\r\n\r\n"])),
            ["x", "y"]
        );
        assert_eq!(data(&decode(&[b"data: x\r\rdata: y\r\r"])), ["x", "y"]);
        // CRLF split between reads must not produce an extra blank line.
        assert_eq!(
            data(&decode(&[b"data: x\r", b"\ndata: y\r\n\r\n"])),
            ["x\ny"]
        );
    }

    #[test]
    fn comments_and_keep_alives_are_ignored() {
        assert_eq!(
            data(&decode(&[
                b": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: x\n\n"
            ])),
            ["x"]
        );
    }

    #[test]
    fn multi_line_data_is_joined() {
        assert_eq!(
            data(&decode(&[b"data: {\"a\":\ndata: 1}\n\n"])),
            ["{\"a\":\n1}"]
        );
    }

    #[test]
    fn final_event_without_blank_line() {
        assert_eq!(data(&decode(&[b"data: a\n\ndata: b"])), ["a", "b"]);
        assert_eq!(data(&decode(&[b"data: a\n\ndata: b\n"])), ["a", "b"]);
    }

    #[test]
    fn event_names_and_no_space_after_colon() {
        let events = decode(&[b"event: error\ndata:{\"e\":1}\n\n"]);
        assert_eq!(
            events,
            vec![SseEvent {
                event: Some("error".into()),
                data: "{\"e\":1}".into()
            }]
        );
    }

    #[test]
    fn long_line_in_tiny_reads_is_linear() {
        let payload = "x".repeat(2_000_000);
        let msg = format!("data: {payload}\n\n");
        let started = std::time::Instant::now();
        let parts: Vec<&[u8]> = msg.as_bytes().chunks(64).collect();
        let events = decode(&parts);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.len(), payload.len());
        // Quadratic rescanning would take minutes here; linear takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
