//! The named problems: small exact bandits that the scenarios, the figures and `sharpen toy
//! train|flow` share, and the grids the reports sweep.

use crate::bandit::{Bandit, Response};
use crate::regime::{Regime, PAPER_ALPHAS};

/// The named problems `sharpen toy train` and `sharpen toy flow` accept.
pub const PROBLEMS: [&str; 4] = ["many-paths", "small-four", "near-tie", "near-tie:GAP"];

/// A named problem: `many-paths`, `small-four`, `near-tie` (gap 0.1) or `near-tie:GAP` (GAP in nats ≥ 0).
pub fn problem(name: &str) -> Option<Bandit> {
    match name {
        "many-paths" => Some(many_paths()),
        "small-four" => Some(small_four()),
        "near-tie" => Some(near_tie(0.1)),
        _ => {
            let gap: f64 = name.strip_prefix("near-tie:")?.parse().ok()?;
            (gap.is_finite() && gap >= 0.0).then(|| near_tie(gap))
        }
    }
}

/// Four responses: a short wrong mode (0.4), two correct paths (0.3, 0.2), a wrong tail (0.1).
pub fn small_four() -> Bandit {
    let r = |prob, reward, length, answer: &str| Response { prob, reward, length, answer: answer.into() };
    Bandit::new(vec![r(0.4, 0.0, 2, "A"), r(0.3, 1.0, 5, "B"), r(0.2, 1.0, 8, "B"), r(0.1, 0.0, 3, "C")])
        .expect("valid by construction")
}

/// Two leading responses `gap` nats apart sharing 60% — response 0 (short, wrong) ahead of
/// response 1 (correct) — and four responses with 10% each (two correct, two wrong).
pub fn near_tie(gap: f64) -> Bandit {
    let lead = 0.6 / (1.0 + (-gap).exp());
    let r = |prob, reward, length, answer: &str| Response { prob, reward, length, answer: answer.into() };
    Bandit::new(vec![
        r(lead, 0.0, 4, "A"),
        r(0.6 - lead, 1.0, 6, "B"),
        r(0.1, 1.0, 12, "B"),
        r(0.1, 1.0, 14, "B"),
        r(0.1, 0.0, 10, "C"),
        r(0.1, 0.0, 16, "C"),
    ])
    .expect("valid by construction")
}

/// β⁻¹ values for the tilted path in reports (0 is π_ref itself).
pub const TILT_GRID: [f64; 8] = [0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1e4];

/// The many-paths problem: answer "42" (correct) is reached by 12 chain-of-thought strings of
/// 18–40 tokens with 6% each (72% in all); "41" (wrong) is one 3-token direct answer with 16% —
/// the single most likely string; "40" (wrong) has 4 longer strings with 3% each.
pub fn many_paths() -> Bandit {
    let mut responses = vec![Response { prob: 0.16, reward: 0.0, length: 3, answer: "41".into() }];
    for i in 0..12 {
        responses.push(Response { prob: 0.06, reward: 1.0, length: 18 + 2 * i, answer: "42".into() });
    }
    for i in 0..4 {
        responses.push(Response { prob: 0.03, reward: 0.0, length: 20 + 5 * i, answer: "40".into() });
    }
    Bandit::new(responses).expect("valid by construction")
}

/// The regimes shown side by side in reports: the paper's four plus the control.
pub fn headline_regimes() -> Vec<Regime> {
    let mut v = vec![Regime::task_reward(), Regime::sharpening(), Regime::control()];
    v.extend(PAPER_ALPHAS.iter().filter(|&&a| a != 1.0).map(|&a| Regime::tempered(a).unwrap()));
    v.push(Regime::tilted(1.0, 100.0).unwrap());
    v.push(Regime::tilted(4.0, 100.0).unwrap());
    v.push(Regime::tilted(4.0, 1e4).unwrap());
    v
}
