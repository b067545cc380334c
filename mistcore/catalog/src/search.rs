//! Ranking of operations for a few words of text: the search behind `mist_search_operations`
//! and `mistcli ops search`. Every word must match an operation's id, category, path or summary
//! (`sites` and `site` match each other); matches in the id weigh most.

use crate::{OPERATIONS, Operation};

/// One operation found, with its score (higher is better).
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// The operation.
    pub operation: &'static Operation,
    /// Its relevance.
    pub score: u32,
}

/// The search terms of a query: its words, lower case, deduplicated, at most 20.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms = words(query);
    terms.sort();
    terms.dedup();
    terms.truncate(20);
    terms
}

/// The operations `keep` accepts that match every term, best first (ties by id).
pub fn rank(terms: &[String], keep: impl Fn(&Operation) -> bool) -> Vec<Hit> {
    let mut hits: Vec<Hit> = OPERATIONS
        .iter()
        .filter(|op| keep(op))
        .map(|op| Hit {
            operation: op,
            score: score(op, terms),
        })
        .filter(|hit| hit.score > 0)
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.operation.id.cmp(b.operation.id))
    });
    hits
}

/// Lower-case words of an identifier or text: `listOrgSites` gives list, org, sites.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in text.chars() {
        if !ch.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `sites` and `site` match each other.
fn stem(w: &str) -> &str {
    if w.len() > 3 {
        w.strip_suffix('s').unwrap_or(w)
    } else {
        w
    }
}

/// A relevance score of `op` for the query terms; 0 when a term matches nothing.
fn score(op: &Operation, terms: &[String]) -> u32 {
    let id_words: Vec<String> = words(op.id);
    let cat_words = words(op.category);
    let text_words = words(op.summary);
    let path_words = words(op.path);
    let has = |ws: &[String], t: &str| ws.iter().any(|w| stem(w) == stem(t));
    let mut total = 0;
    for t in terms {
        let mut s = 0;
        if has(&id_words, t) {
            s += 6;
        } else if op.id.to_ascii_lowercase().contains(t.as_str()) {
            s += 3;
        }
        if has(&cat_words, t) {
            s += 3;
        }
        if has(&path_words, t) {
            s += 2;
        }
        if has(&text_words, t) {
            s += 2;
        }
        if s == 0 {
            return 0;
        }
        total += s;
    }
    if op.id.eq_ignore_ascii_case(&terms.concat()) {
        total += 100;
    }
    // Prefer shorter, more general operations among equals.
    total * 100 - (id_words.len() as u32).min(99)
}
