//! Prints the ranking of a query with scores: `cargo run -p mistcore-catalog --example rank -- words...`.
fn main() {
    let query = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let parsed = mistcore_catalog::search::parse(&query);
    println!("words {:?}", parsed.words);
    for t in &parsed.terms {
        println!("  term {} x{:.1} (word {})", t.stem, t.weight, t.word);
    }
    let ranking = mistcore_catalog::search::rank(&parsed, |_| true);
    println!("{:?}", ranking.strength);
    for hit in ranking.hits.iter().take(8) {
        println!("{:8.2} {} {}", hit.score, hit.matched, hit.operation.id);
    }
}
