//! The state-space solver at an LLM's vocabulary and length, single-threaded:
//! `cargo bench -p sharpen-toy --bench statespace`. Prints the median of several runs of each
//! pass (no timing claims live in tests).
//!
//! Costs (L cap, S states, T ≤ S next states per law, G groups over all laws):
//! `sum` target O(G + L·S·T); `mean` target O(L·G + L²·S·T) (one forward pass per length);
//! optimization O(G + L·S·T); power + temperature conditionals and their laws O(G + L·S·T).
//! Uniform geometric: S = 3, G = 2 per law whatever V; Zipf: G = V per law.

use sharpen_toy::statespace::{from_spec, Solver};
use sharpen_toy::tree::report::{analyze, Method, TreeQuery};
use sharpen_toy::tree::{FamilyOptions, FamilySpec};
use sharpen_toy::{Mode, Normalization, Regime};
mod common;

use common::median_ms;
use std::time::Instant;

fn main() {
    for zipf in [None, Some(1.0)] {
        let o = FamilyOptions { vocab: Some(152_000), max_len: Some(4096), zipf, ..Default::default() };
        let spec = FamilySpec::parse("geometric", &o).unwrap();
        let start = Instant::now();
        let m = from_spec(&spec).unwrap();
        let groups: usize = m.states.iter().flat_map(|s| &s.pieces).map(|p| p.1.groups.len()).sum();
        println!(
            "{}: {} states, {groups} groups, built in {:.1} ms",
            m.name,
            m.len(),
            start.elapsed().as_secs_f64() * 1e3
        );
        let solver = Solver::new(&m);
        let runs = 5;
        let regimes = [
            ("tempered α=2, sum", Regime::tempered(2.0).unwrap()),
            ("tilted α=4 β⁻¹=100, mean", Regime::new(Mode::Sampling, 4.0, 100.0, Normalization::Mean).unwrap()),
            ("sharpening (optimization), sum", Regime::sharpening()),
            (
                "sharpening (optimization), mean",
                Regime::new(Mode::Optimization, 1.0, 0.0, Normalization::Mean).unwrap(),
            ),
        ];
        for (name, r) in regimes {
            let ms = median_ms(runs, || {
                std::hint::black_box(solver.solve(&r));
            });
            println!("  target + summary [{name}]: {ms:.1} ms (median of {runs})");
        }
        let ms = median_ms(runs, || {
            std::hint::black_box(solver.power_vs_temperature(2.0));
        });
        println!("  power vs temperature (conditionals, both laws, KL both ways, Z spread), α=2: {ms:.1} ms");
        let ms = median_ms(runs, || {
            std::hint::black_box(solver.alpha_star_dp());
        });
        println!("  α* by bisection on the length law: {ms:.1} ms");
        let q = TreeQuery {
            alphas: vec![0.5, 1.0, 1.25, 2.0, 4.0],
            mode: Mode::Sampling,
            beta_inv: 0.0,
            normalization: Normalization::Sum,
            max_nodes: 0,
            method: Method::Auto,
        };
        let ms = median_ms(3, || {
            std::hint::black_box(analyze(&spec, &q).unwrap());
        });
        println!(
            "  the whole `sharpen toy tree geometric --vocab 152000 --max-len 4096` report: {ms:.1} ms (median of 3)"
        );
    }
}
