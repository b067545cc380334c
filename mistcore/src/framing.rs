//! Newline-delimited messages (the stdio transport) with a cap on their length, without I/O:
//! the frontend feeds what it read, and a line longer than the cap is read to its end and
//! thrown away as it goes, keeping only its start (to find its id), so memory stays bounded
//! whatever a client sends.

use serde_json::Value;

/// How much of an over-long line is kept, to find its id.
pub const KEPT_PREFIX: usize = 4096;

/// Cuts a byte stream into lines of at most `cap` bytes (newline included).
#[derive(Debug)]
pub struct LineFramer {
    cap: usize,
    line: Vec<u8>,
    over: bool,
    started: bool,
}

/// One line of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line within the cap, with its newline (when it had one).
    Whole(&'a [u8]),
    /// A line over the cap: its first [`KEPT_PREFIX`] bytes at most.
    TooLong(&'a [u8]),
}

impl LineFramer {
    /// A framer of lines of at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        LineFramer {
            cap,
            line: Vec::new(),
            over: false,
            started: false,
        }
    }

    /// Takes bytes of `buffer` up to and including its first newline. Returns how many it took
    /// and whether a line is now complete (then read it with [`LineFramer::line`] before feeding
    /// more).
    pub fn feed(&mut self, buffer: &[u8]) -> (usize, bool) {
        if !self.started {
            self.line.clear();
            self.over = false;
        }
        let end = buffer.iter().position(|b| *b == b'\n');
        let chunk = &buffer[..end.map_or(buffer.len(), |i| i + 1)];
        self.started = !chunk.is_empty() || self.started;
        let room = self.cap.saturating_sub(self.line.len());
        if !self.over && chunk.len() > room {
            self.over = true;
        }
        if !self.over {
            self.line.extend_from_slice(chunk);
        } else if self.line.len() < KEPT_PREFIX {
            let keep = (KEPT_PREFIX - self.line.len()).min(chunk.len());
            self.line.extend_from_slice(&chunk[..keep]);
        }
        if end.is_some() {
            self.started = false;
        }
        (chunk.len(), end.is_some())
    }

    /// The line completed by the last [`LineFramer::feed`], or at the end of the input the
    /// partial line left (`None` when nothing is left).
    pub fn line(&mut self) -> Option<Line<'_>> {
        // At the end of the input, what was read of the last line is a line.
        self.started = false;
        if self.line.is_empty() {
            return None;
        }
        Some(if self.over {
            Line::TooLong(&self.line[..self.line.len().min(KEPT_PREFIX)])
        } else {
            Line::Whole(&self.line)
        })
    }

    /// Forgets the line just read, so that [`LineFramer::line`] answers `None` until the next one.
    pub fn clear(&mut self) {
        self.line.clear();
        self.over = false;
    }
}

/// The id of a message cut short, when its start names one before its `params`; else `null`.
pub fn id_in_prefix(prefix: &[u8]) -> Value {
    let text = String::from_utf8_lossy(&prefix[..prefix.len().min(KEPT_PREFIX)]);
    let head = text.split("\"params\"").next().unwrap_or("");
    let Some(at) = head.find("\"id\"") else {
        return Value::Null;
    };
    let rest = head[at + 4..]
        .trim_start()
        .strip_prefix(':')
        .unwrap_or("")
        .trim_start();
    let token: String = if let Some(quoted) = rest.strip_prefix('"') {
        match quoted.find('"') {
            Some(end) => format!("\"{}\"", &quoted[..end]),
            None => return Value::Null,
        }
    } else {
        let digits: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        // A fraction or an exponent: not an id this server answers.
        if rest[digits.len()..].starts_with(['.', 'e', 'E']) {
            return Value::Null;
        }
        digits
    };
    serde_json::from_str::<Value>(&token)
        .ok()
        .filter(|id| id.is_string() || id.is_i64())
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input` fed in chunks of `step` bytes.
    fn lines(input: &[u8], cap: usize, step: usize) -> Vec<Result<Vec<u8>, Vec<u8>>> {
        let mut framer = LineFramer::new(cap);
        let mut out = Vec::new();
        let mut at = 0;
        let push = |framer: &mut LineFramer, out: &mut Vec<_>| {
            match framer.line() {
                Some(Line::Whole(l)) => out.push(Ok(l.to_vec())),
                Some(Line::TooLong(p)) => out.push(Err(p.to_vec())),
                None => {}
            }
            framer.clear();
        };
        while at < input.len() {
            let end = (at + step).min(input.len());
            let (used, complete) = framer.feed(&input[at..end]);
            at += used;
            if complete {
                push(&mut framer, &mut out);
            }
        }
        push(&mut framer, &mut out);
        out
    }

    #[test]
    fn lines_within_the_cap_are_whole_and_longer_ones_cut() {
        for step in [1, 3, 100] {
            let got = lines(b"ab\ncdefgh\n\nxy", 4, step);
            assert_eq!(
                got,
                vec![
                    Ok(b"ab\n".to_vec()),
                    Err(b"cdefgh\n".to_vec()),
                    Ok(b"\n".to_vec()),
                    Ok(b"xy".to_vec())
                ],
                "step {step}"
            );
        }
        let long = vec![b'x'; 3 * KEPT_PREFIX];
        let got = lines(&long, 10, 1000);
        assert_eq!(got, vec![Err(vec![b'x'; KEPT_PREFIX])]);
        assert!(lines(b"", 10, 1).is_empty());
    }

    #[test]
    fn the_id_of_a_cut_message_is_found_at_its_start() {
        assert_eq!(
            id_in_prefix(br#"{"jsonrpc":"2.0","id": 7,"params""#),
            Value::from(7)
        );
        assert_eq!(id_in_prefix(br#"{"id":"a-1","#), Value::from("a-1"));
        assert_eq!(id_in_prefix(br#"{"params":{"id":3}"#), Value::Null);
        assert_eq!(id_in_prefix(br#"{"id":1.5"#), Value::Null);
        assert_eq!(id_in_prefix(b"\xff\xfe\"id\":"), Value::Null);
    }
}
