//! Verifications per second, single-threaded, on the committed fixture (the authors' call
//! cases). Run: `cargo bench -p sharpen-verify`. Compare with
//! `scripts/verify/make_fixture.py --bench` (Math-Verify on the same cases).

use std::time::Instant;

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/authors_call.jsonl");
    let text = std::fs::read_to_string(path).expect("fixture");
    let cases: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            (v["response"].as_str().unwrap_or("").to_string(), v["gold"].as_str().unwrap_or("").to_string())
        })
        .collect();
    // Warm-up: compiles the regexes once (as Math-Verify's lru_cache does).
    let _ = sharpen_verify::score("\\boxed{1}", "1");
    let rounds = 3;
    let t0 = Instant::now();
    let mut positives = 0usize;
    for _ in 0..rounds {
        for (r, g) in &cases {
            positives += usize::from(sharpen_verify::score(r, g));
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let n = cases.len() * rounds;
    println!(
        "sharpen-verify single-threaded: {n} verifications in {dt:.3}s = {:.0} verifications/s ({} scored 1 per round)",
        n as f64 / dt,
        positives / rounds
    );
}
