//! The tree DP on about 10^6 prefixes, single-threaded: `cargo bench -p sharpen-toy --bench tree_dp`.
//! Prints the median of several runs of each pass (no timing claims live in tests).

use sharpen_toy::tree::dp::{sequence_log_probs, summarize, Target};
use sharpen_toy::tree::power::power_conditionals;
use sharpen_toy::tree::temperature::temperature_conditionals;
use sharpen_toy::tree::{Geometric, Tree};
use sharpen_toy::{Mode, Normalization, Regime};
mod common;

use common::median_ms;
use std::time::Instant;

fn main() {
    // V = 2 with Zipf tokens, cap 19: 2^20 − 1 = 1,048,575 prefixes.
    let g = Geometric::new(2, 0.3, Some(1.0), 19).unwrap();
    let start = Instant::now();
    let tree = Tree::build(&g, 10_000_000).unwrap();
    println!("build: {} prefixes in {:.0} ms", tree.len(), start.elapsed().as_secs_f64() * 1e3);
    let runs = 7;
    let regimes = [
        ("tempered α=2, sum", Regime::tempered(2.0).unwrap()),
        ("tilted α=4 β⁻¹=100, mean", Regime::new(Mode::Sampling, 4.0, 100.0, Normalization::Mean).unwrap()),
        ("sharpening (optimization)", Regime::sharpening()),
    ];
    for (name, r) in regimes {
        let ms = median_ms(runs, || {
            let t = Target::new(&tree, &r);
            let c = t.conditionals(&tree);
            std::hint::black_box(summarize(&tree, &t.log_q()));
            std::hint::black_box(c);
        });
        println!("target + conditionals + summary [{name}]: {ms:.1} ms (median of {runs})");
    }
    let ms = median_ms(runs, || {
        let p = sequence_log_probs(&tree, &power_conditionals(&tree, 2.0));
        let t = sequence_log_probs(&tree, &temperature_conditionals(&tree, 2.0));
        std::hint::black_box((p, t));
    });
    println!("power + temperature conditionals and their sequence laws (α=2): {ms:.1} ms (median of {runs})");
}
