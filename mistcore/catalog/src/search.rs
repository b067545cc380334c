//! Ranking of operations for a question in plain words: the search behind
//! `mist_search_operations` and `mistcli ops search`, the same natively and on the edge.
//!
//! BM25F over an index built at build time (`build.rs`): each operation's id, summary,
//! category, path, description and parameter names, weighted in that order and normalized by
//! each field's length, cut into stems by
//! [`crate::text`]. A query is cut the same way, widened with a thesaurus of how network
//! engineers talk ([`crate::thesaurus`]), and each word the index does not know is read as its
//! closest known word (typos) or as the start of longer ones (`config` for `configuration`).
//! The ranking always gives the best operations it has; [`Strength`] says how well they match.

use crate::{INDEX_POSTINGS, INDEX_TERMS, OPERATIONS, Operation};

/// How much a widened word counts against one the user typed.
const SYNONYM_WEIGHT: f32 = 0.7;
/// How much the words of a thesaurus phrase count, and what it stands for.
const PHRASE_WORD_WEIGHT: f32 = 0.6;
const PHRASE_EXPANSION_WEIGHT: f32 = 0.9;
/// How much the closest known word of a typo counts.
const TYPO_WEIGHT: f32 = 0.8;
/// How much a longer known word counts when a typed word starts it.
const PREFIX_WEIGHT: f32 = 0.4;
/// How much more an operation counts when the question names its object (the id's last word).
const OBJECT_BONUS: f32 = 1.2;
/// How much more a `list` operation counts when the question's object is plural.
const PLURAL_LIST_BONUS: f32 = 1.25;
/// How much the other stems of a word count besides its best one.
const TIE: f32 = 0.3;
/// BM25's saturation.
const K1: f32 = 1.2;
/// The most words of a query that count.
const MAX_WORDS: usize = 24;

/// One stem searched, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The stem looked up in the index.
    pub stem: String,
    /// How much it counts (1 for a word as typed).
    pub weight: f32,
    /// The query word (or phrase) it stands for, as an index into [`Query::words`].
    pub word: usize,
}

/// A query cut into words and the stems searched for them.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The words (or thesaurus phrases) that count, as typed (lower case).
    pub words: Vec<String>,
    /// The stems searched.
    pub terms: Vec<Term>,
    /// Typed words read as other words: (typed, read as).
    pub corrections: Vec<(String, String)>,
    /// The query with spaces removed, lower case (to find an operation id typed as such).
    compact: String,
    /// The query asks to change something (create, delete, update...).
    wants_write: bool,
    /// A word of the query is plural (sites): a list is wanted more than one object.
    plural: bool,
}

impl Query {
    /// Whether no word of the query counts (empty, or stop words only).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// One operation found, with its score (higher is better).
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// The operation.
    pub operation: &'static Operation,
    /// Its relevance.
    pub score: f32,
    /// How many of the query's words it matched.
    pub matched: usize,
}

/// How well the best operations match the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// The best operation matches most of the query's words.
    Strong,
    /// The best operation matches fewer than half of them.
    Weak,
    /// Nothing matched: the operations are general starting points.
    Nothing,
}

/// The operations for a query, best first.
#[derive(Debug, Clone)]
pub struct Ranking {
    /// The operations, best first (ties by id).
    pub hits: Vec<Hit>,
    /// How well the best ones match.
    pub strength: Strength,
}

/// Where to start when nothing matches: who am I, the org's sites, devices and clients.
const STARTING_POINTS: &[&str] = &[
    "getSelf",
    "listOrgSites",
    "listOrgDevicesStats",
    "searchOrgWirelessClients",
    "searchOrgAlarms",
    "getOrgInventory",
    "listOrgWlans",
    "searchOrgDeviceEvents",
];

/// Words that ask for a change.
const WRITE_WORDS: &[&str] = &[
    "add",
    "assign",
    "bounce",
    "change",
    "claim",
    "clear",
    "create",
    "delete",
    "disable",
    "edit",
    "enable",
    "invite",
    "modify",
    "move",
    "new",
    "open",
    "ping",
    "reboot",
    "remove",
    "rename",
    "replace",
    "reset",
    "restart",
    "run",
    "set",
    "start",
    "stop",
    "test",
    "traceroute",
    "unassign",
    "update",
    "upgrade",
];

/// Cuts `query` into the stems searched: its words (at most 24), stop words dropped, widened
/// by the thesaurus, typos read as the closest known word.
pub fn parse(query: &str) -> Query {
    let mut corrections = Vec::new();
    // A typo of a word engineers use (acess, statistcs) is read as that word first, so that
    // the thesaurus applies to it.
    let raw: Vec<String> = crate::text::words(query)
        .into_iter()
        .take(MAX_WORDS)
        .map(|w| match jargon_typo(&w) {
            Some(fixed) => {
                corrections.push((w, fixed.to_string()));
                fixed.to_string()
            }
            None => w,
        })
        .collect();
    let mut q = Query {
        compact: query
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase(),
        wants_write: raw.iter().any(|w| WRITE_WORDS.contains(&w.as_str())),
        corrections,
        ..Query::default()
    };
    let mut i = 0;
    while i < raw.len() {
        if let Some((len, expansion)) = crate::thesaurus::phrase_at(&raw[i..]) {
            let word = q.words.len();
            q.words.push(raw[i..i + len].join(" "));
            // A phrase (access point) means its expansion (ap) more than its words; one word
            // (offline) means itself first.
            let (typed_weight, expansion_weight) = if len > 1 {
                (PHRASE_WORD_WEIGHT, PHRASE_EXPANSION_WEIGHT)
            } else {
                (1.0, SYNONYM_WEIGHT)
            };
            for typed in &raw[i..i + len] {
                if !crate::text::is_stop_word(typed) {
                    q.add(crate::text::stem(typed), typed_weight, word);
                }
            }
            for w in crate::text::words(expansion) {
                q.add(crate::text::stem(&w), expansion_weight, word);
            }
            q.plural |= is_plural(&raw[i + len - 1]);
            i += len;
            continue;
        }
        let typed = &raw[i];
        i += 1;
        if crate::text::is_stop_word(typed) {
            continue;
        }
        let word = q.words.len();
        q.words.push(typed.clone());
        let stem = crate::text::stem(typed);
        q.plural |= is_plural(typed);
        if known(&stem) || typed.len() < 3 {
            q.add(stem, 1.0, word);
            continue;
        }
        match closest_known(&stem) {
            Some(fixed) => {
                q.corrections.push((typed.clone(), fixed.to_string()));
                q.add(fixed.to_string(), TYPO_WEIGHT, word);
            }
            // Unknown and nothing close: kept, so that a longer known word it starts counts.
            None => q.add(stem, 1.0, word),
        }
    }
    q
}

impl Query {
    fn add(&mut self, stem: String, weight: f32, word: usize) {
        if stem.is_empty() {
            return;
        }
        match self
            .terms
            .iter_mut()
            .find(|t| t.stem == stem && t.word == word)
        {
            Some(t) => t.weight = t.weight.max(weight),
            None => self.terms.push(Term { stem, weight, word }),
        }
    }
}

/// The thesaurus word a word unknown to the index is a typo of, if any.
fn jargon_typo(word: &str) -> Option<&'static str> {
    if word.len() < 4 || crate::text::is_stop_word(word) || known(&crate::text::stem(word)) {
        return None;
    }
    let most = if word.chars().count() <= 6 { 1 } else { 2 };
    crate::thesaurus::words()
        .filter(|t| t.len() >= 4 && t.len().abs_diff(word.len()) <= most)
        .map(|t| (strsim::damerau_levenshtein(word, t), t))
        .filter(|(d, _)| *d <= most)
        .min()
        .map(|(_, t)| t)
}

/// Whether a word names many things (sites, keys); not stats, status, access.
fn is_plural(word: &str) -> bool {
    word.len() > 3
        && word.ends_with('s')
        && !["ss", "us", "stats", "is"]
            .iter()
            .any(|end| word.ends_with(end))
}

/// Whether the index holds `stem`, or a longer stem starting with it.
fn known(stem: &str) -> bool {
    let at = INDEX_TERMS.partition_point(|t| *t < stem);
    INDEX_TERMS.get(at).is_some_and(|t| t.starts_with(stem))
}

/// The known stem closest to `stem` (one edit for short words, two for long ones), the most
/// common among equals.
fn closest_known(stem: &str) -> Option<&'static str> {
    let most = if stem.chars().count() <= 6 { 1 } else { 2 };
    INDEX_TERMS
        .iter()
        .enumerate()
        .filter(|(_, t)| t.len().abs_diff(stem.len()) <= most)
        .map(|(i, t)| (strsim::damerau_levenshtein(stem, t), i, *t))
        .filter(|(d, _, _)| *d <= most)
        .min_by(|a, b| {
            a.0.cmp(&b.0)
                .then(INDEX_POSTINGS[b.1].len().cmp(&INDEX_POSTINGS[a.1].len()))
        })
        .map(|(_, _, t)| t)
}

/// The index entries for a term: the exact stem, or when the index lacks it, the longer stems
/// it starts (weighted less: `config` for `configur`).
fn entries(stem: &str) -> Vec<(usize, f32)> {
    let start = INDEX_TERMS.partition_point(|t| *t < stem);
    if INDEX_TERMS.get(start) == Some(&stem) {
        return vec![(start, 1.0)];
    }
    if stem.len() < 4 {
        return Vec::new();
    }
    INDEX_TERMS[start..]
        .iter()
        .take_while(|t| t.starts_with(stem))
        .enumerate()
        .map(|(k, _)| (start + k, PREFIX_WEIGHT))
        .collect()
}

/// The operations `keep` accepts, ranked for `query`, best first (ties by id); never empty
/// while `keep` accepts any operation.
pub fn rank(query: &Query, keep: impl Fn(&Operation) -> bool) -> Ranking {
    let n = OPERATIONS.len() as f32;
    let mut score = vec![0f32; OPERATIONS.len()];
    let mut matched = vec![0u64; OPERATIONS.len()];
    // Each word of the query counts once: by the best of its stems (as typed, widened, read
    // past a typo), so that a word with many synonyms does not outweigh the others.
    let mut best = vec![0f32; OPERATIONS.len()];
    let mut rest = vec![0f32; OPERATIONS.len()];
    for word in 0..query.words.len() {
        best.iter_mut().for_each(|b| *b = 0.0);
        rest.iter_mut().for_each(|r| *r = 0.0);
        for term in query.terms.iter().filter(|t| t.word == word) {
            for (entry, weight) in entries(&term.stem) {
                let postings = INDEX_POSTINGS[entry];
                let df = postings.len() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                for &(op, tf) in postings {
                    let op = op as usize;
                    // The frequency is already weighted and normalized per field (BM25F).
                    let tf = f32::from(tf) / 100.0;
                    let bm25 = idf * tf * (K1 + 1.0) / (tf + K1);
                    let s = bm25 * weight * term.weight;
                    rest[op] += s.min(best[op]);
                    best[op] = best[op].max(s);
                }
            }
        }
        for (op, b) in best.iter().enumerate() {
            if *b > 0.0 {
                score[op] += b + TIE * rest[op];
                matched[op] |= 1 << word.min(63);
            }
        }
    }
    let words = query.words.len().max(1);
    let stems: Vec<&str> = query.terms.iter().map(|t| t.stem.as_str()).collect();
    let mut hits: Vec<Hit> = OPERATIONS
        .iter()
        .enumerate()
        .filter(|(i, op)| score[*i] > 0.0 && keep(op))
        .map(|(i, op)| {
            let covered = matched[i].count_ones() as usize;
            // Operations that answer more of the question's words come first, and among them
            // those whose name says little else (listOrgSites before getOrgSiteTemplate).
            let mut s = score[i] * (0.4 + 0.6 * covered as f32 / words as f32);
            // The id's words and their stems, cut once for both checks below.
            let id_words = crate::text::words(op.id);
            let id_stems: Vec<String> = id_words.iter().map(|w| crate::text::stem(w)).collect();
            s *= 0.6 + 0.4 * name_covered(&id_words, &id_stems, &stems);
            // The last word of an id is its object (listOrgSites: sites): what the question is about.
            if id_stems.last().is_some_and(|w| stems.contains(&w.as_str())) {
                s *= OBJECT_BONUS;
            }
            if !query.wants_write && !op.method.is_write() {
                s *= 1.15;
            }
            if query.plural && op.id.starts_with("list") {
                s *= PLURAL_LIST_BONUS;
            }
            if op.id.eq_ignore_ascii_case(&query.compact) {
                s += 1000.0;
            }
            Hit {
                operation: op,
                score: s,
                matched: covered,
            }
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.operation.id.cmp(b.operation.id))
    });
    let strength = match hits.first() {
        None => Strength::Nothing,
        Some(top) if top.matched * 2 < words => Strength::Weak,
        Some(_) => Strength::Strong,
    };
    if hits.is_empty() {
        let starts = STARTING_POINTS.iter().filter_map(|id| crate::operation(id));
        let rest = OPERATIONS
            .iter()
            .filter(|op| !STARTING_POINTS.contains(&op.id));
        hits = starts
            .chain(rest)
            .filter(|op| keep(op))
            .take(10)
            .map(|op| Hit {
                operation: op,
                score: 0.0,
                matched: 0,
            })
            .collect();
    }
    Ranking { hits, strength }
}

/// Verbs of operation ids that any question may mean (a read).
const READ_VERBS: &[&str] = &["get", "list", "search"];
/// The scopes operation ids name.
const SCOPES: &[&str] = &["org", "site", "msp"];

/// The share of an operation id's words (as cut, and stemmed) the query names; read verbs
/// (get, list, search) always count as named, scopes too when the query names none.
fn name_covered(id_words: &[String], id_stems: &[String], stems: &[&str]) -> f32 {
    // Without a scope in the query, the org's is meant as much as any.
    let no_scope = !stems.iter().any(|s| SCOPES.contains(s));
    let named = id_words
        .iter()
        .zip(id_stems)
        .filter(|(w, stem)| {
            READ_VERBS.contains(&w.as_str())
                || (no_scope && SCOPES.contains(&w.as_str()))
                || stems.contains(&stem.as_str())
        })
        .count();
    named as f32 / id_words.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(query: &str) -> Vec<&'static str> {
        rank(&parse(query), |_| true)
            .hits
            .iter()
            .take(5)
            .map(|h| h.operation.id)
            .collect()
    }

    #[test]
    fn plain_questions_find_their_operation() {
        assert_eq!(top("list sites of an org")[0], "listOrgSites");
        assert_eq!(top("listOrgSites")[0], "listOrgSites");
        assert!(top("api usage of my token").contains(&"getSelfApiUsage"));
    }

    #[test]
    fn typos_and_stop_words() {
        let q = parse("wirless clints");
        assert_eq!(q.corrections.len(), 2, "{:?}", q.corrections);
        let stop = parse("the of and what");
        assert!(stop.is_empty());
        let r = rank(&stop, |_| true);
        assert_eq!(r.strength, Strength::Nothing);
        assert_eq!(r.hits[0].operation.id, "getSelf");
        assert!(rank(&parse("zzzzqqq"), |_| true).hits.len() >= 5);
    }
}
