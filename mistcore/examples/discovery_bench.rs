//! The discovery benchmark: how often `mist_search_operations` puts an operation that answers an
//! everyday question first, or among the first five, and how many bytes a model reads to get
//! there. `cargo run --release -p mistcore --example discovery_bench` (scripts/bench.sh runs it).

include!("../bench/eval.rs");

fn main() {
    let sets = [
        ("ours (tuned on)", include_str!("../bench/questions.tsv")),
        ("kept apart", include_str!("../bench/held_out.tsv")),
    ];
    let verbose = std::env::args().any(|a| a == "-v");
    for (name, tsv) in sets {
        let f = evaluate(tsv);
        println!(
            "discovery, {name}: {} questions, recall@1 {:.2}, recall@5 {:.2}, MRR {:.2}, {} empty answers, {:.0} bytes read per question",
            f.questions, f.recall_at_1, f.recall_at_5, f.mrr, f.empty, f.bytes_per_question
        );
        if verbose {
            for miss in &f.misses {
                println!("  miss: {miss}");
            }
        }
    }
    println!(
        "targets: recall@5 >= 0.95 and recall@1 >= 0.75 on ours, recall@5 >= 0.90 kept apart, no empty answer"
    );
}
