//! Quality, not timing: the discovery search must keep finding the operations that answer our
//! benchmark's questions (`bench/questions.tsv`); `examples/discovery_bench.rs` prints all figures.

include!("../bench/eval.rs");

#[test]
fn the_search_keeps_answering_our_questions() {
    let ours = evaluate(include_str!("../bench/questions.tsv"));
    assert!(ours.questions >= 150, "{} questions", ours.questions);
    assert!(
        ours.recall_at_5 >= 0.90,
        "recall@5 {:.2} < 0.90; misses:\n{}",
        ours.recall_at_5,
        ours.misses.join("\n")
    );
    assert_eq!(ours.empty, 0, "questions without any result");
    let apart = evaluate(include_str!("../bench/held_out.tsv"));
    assert_eq!(apart.empty, 0, "held-out questions without any result");
}
