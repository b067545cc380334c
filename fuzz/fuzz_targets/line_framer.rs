//! `framing::LineFramer` (the bounded line reader of stdio) and `framing::id_in_prefix` on
//! arbitrary bytes fed in arbitrary chunks.
//!
//! Input layout: byte 0 the cap (0-255 bytes); byte 1 the chunk size (1-256); the rest, the
//! stream. Asserts that lines within the cap come out exactly as written, longer ones as their
//! start, nothing kept is longer than the cap or the kept prefix, and nothing is lost.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::framing::{KEPT_PREFIX, Line, LineFramer, id_in_prefix};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let cap = usize::from(data[0]);
    let step = usize::from(data[1]) + 1;
    let stream = &data[2..];
    let mut framer = LineFramer::new(cap);
    let mut lines: Vec<(Vec<u8>, bool)> = Vec::new();
    let take = |framer: &mut LineFramer, lines: &mut Vec<(Vec<u8>, bool)>| {
        match framer.line() {
            Some(Line::Whole(l)) => {
                assert!(l.len() <= cap, "a line of {} bytes over the cap {cap}", l.len());
                lines.push((l.to_vec(), false));
            }
            Some(Line::TooLong(prefix)) => {
                assert!(prefix.len() <= KEPT_PREFIX);
                let _ = id_in_prefix(prefix);
                lines.push((prefix.to_vec(), true));
            }
            None => {}
        }
        framer.clear();
    };
    let mut at = 0;
    while at < stream.len() {
        let end = (at + step).min(stream.len());
        let (used, complete) = framer.feed(&stream[at..end]);
        assert!(used > 0 && used <= end - at, "took {used} of {}", end - at);
        at += used;
        if complete {
            take(&mut framer, &mut lines);
        }
    }
    take(&mut framer, &mut lines);
    // The same lines as splitting the stream after each newline.
    let expected: Vec<&[u8]> = stream
        .split_inclusive(|b| *b == b'\n')
        .collect();
    assert_eq!(lines.len(), expected.len(), "lines lost or invented");
    for ((got, over), want) in lines.iter().zip(expected) {
        assert_eq!(*over, want.len() > cap);
        if *over {
            assert_eq!(&want[..got.len()], &got[..], "the kept start differs");
            assert_eq!(got.len(), want.len().min(KEPT_PREFIX));
        } else {
            assert_eq!(&got[..], want);
        }
    }
    let _ = id_in_prefix(stream);
});
