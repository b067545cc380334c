//! The words of operations and of queries, cut the same way at build time (the search index of
//! `build.rs`, which includes this file) and at run time (queries): identifiers split at case
//! changes, lower case, stop words dropped, English stems (`sites`, `site` → `site`;
//! `upgrades` → `upgrad`).

/// Lower-case words of an identifier or text: `listOrgSites` gives list, org, sites.
pub fn words(text: &str) -> Vec<String> {
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

/// Words that say nothing about which operation is meant.
const STOP_WORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "by", "can", "could", "do",
    "does", "each", "every", "for", "from", "give", "have", "how", "i", "in", "into", "is", "it",
    "its", "let", "me", "my", "now", "of", "on", "one", "or", "our", "please", "right", "so",
    "some", "tell", "that", "the", "their", "there", "these", "this", "those", "to", "up", "us",
    "want", "was", "we", "what", "when", "where", "whether", "which", "who", "whole", "why",
    "will", "with", "would", "you", "your",
];

/// Whether `word` (lower case) is a stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// The English (Snowball) stem of a lower-case word; acronyms without vowels lose a plural `s`
/// too (`psks` → `psk`), which Snowball keeps.
pub fn stem(word: &str) -> String {
    let stem = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
        .stem(word)
        .into_owned();
    let vowelless = !stem.contains(['a', 'e', 'i', 'o', 'u', 'y']);
    match stem.strip_suffix('s') {
        Some(singular) if vowelless && singular.len() >= 2 && !singular.ends_with('s') => {
            singular.to_string()
        }
        _ => stem,
    }
}

/// The stems of a text's words, stop words dropped.
pub fn stems(text: &str) -> Vec<String> {
    words(text)
        .iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(w))
        .collect()
}
