// Scoring of the discovery tools on a question set (`bench/*.tsv`): included by the
// `discovery_bench` example (which prints the figures) and the `discovery_quality` test (which
// fails when they drop). Each line is `question<TAB>op,op,...`; any listed operation counts.

use mistcore::api::Credentials;
use mistcore::session::{Session, SessionConfig};
use serde_json::{Map, Value, json};

/// The figures of one question set.
#[derive(Debug, Default)]
pub struct Figures {
    /// Questions asked.
    pub questions: usize,
    /// Share whose first result is right.
    pub recall_at_1: f64,
    /// Share with a right result among the first five.
    pub recall_at_5: f64,
    /// Mean reciprocal rank of the first right result (0 when not in the first ten).
    pub mrr: f64,
    /// Questions answered with no result at all.
    pub empty: usize,
    /// Mean bytes a model reads per question: the search answer and the top hit's description.
    pub bytes_per_question: f64,
    /// The questions missed in the first five, with what came first.
    pub misses: Vec<String>,
}

/// A session that sees every operation (write tools on, a client that can confirm).
pub fn bench_session() -> Session {
    let config = SessionConfig {
        write_tools: true,
        ..SessionConfig::default()
    };
    let mut session = Session::new(&config, Credentials::anonymous()).expect("the default session");
    session.client.elicitation = true;
    session
}

/// Scores the questions of `tsv`.
pub fn evaluate(tsv: &str) -> Figures {
    let session = bench_session();
    let mut f = Figures::default();
    let (mut at1, mut at5, mut rr, mut bytes) = (0usize, 0usize, 0f64, 0usize);
    for line in tsv.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (question, expected) = line.split_once('\t').expect("question<TAB>operations");
        let expected: Vec<&str> = expected.split(',').map(str::trim).collect();
        let args: Map<String, Value> = json!({ "query": question })
            .as_object()
            .cloned()
            .expect("an object");
        let answer = mistcore::tools::discovery::search(&session, &args).unwrap_or(Value::Null);
        bytes += answer.to_string().len();
        let ids: Vec<String> = answer["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["operation_id"].as_str().map(str::to_string))
            .collect();
        if ids.is_empty() {
            f.empty += 1;
        }
        if let Some(top) = ids.first() {
            let args: Map<String, Value> = json!({ "operation_id": top })
                .as_object()
                .cloned()
                .expect("an object");
            if let Ok(d) = mistcore::tools::discovery::describe(&session, &args) {
                bytes += d.to_string().len();
            }
        }
        let rank = ids.iter().position(|id| expected.contains(&id.as_str()));
        if rank == Some(0) {
            at1 += 1;
        }
        match rank {
            Some(r) if r < 5 => at5 += 1,
            _ => f.misses.push(format!(
                "{question:?}: wanted {}, got {}",
                expected.join("|"),
                ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            )),
        }
        if let Some(r) = rank.filter(|r| *r < 10) {
            rr += 1.0 / (r as f64 + 1.0);
        }
        f.questions += 1;
    }
    let n = f.questions.max(1) as f64;
    f.recall_at_1 = at1 as f64 / n;
    f.recall_at_5 = at5 as f64 / n;
    f.mrr = rr / n;
    f.bytes_per_question = bytes as f64 / n;
    f
}
