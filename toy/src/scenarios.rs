//! Named scenarios: small exact problems that each make one point of the theory.
//! `sharpen toy list` prints this registry; `sharpen toy scenario NAME` runs one.

use crate::bandit::{Bandit, Response};
use crate::logspace::entropy;
use crate::regime::{Regime, PAPER_ALPHAS};
use crate::report::{Report, Table};
use crate::row;
use crate::theory;

pub struct Scenario {
    pub name: &'static str,
    pub summary: &'static str,
    pub run: fn() -> Report,
}

/// Every named scenario, in the order `sharpen toy list` prints them.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "many-paths",
            summary: "T3: the correct answer is spread over many reasoning paths, a short wrong answer is the mode",
            run: many_paths_report,
        },
        Scenario {
            name: "t7-flow",
            summary: "T7a: exact gradient flows from π_ref end at each regime's closed-form optimum",
            run: crate::dynamics::reports::flow_report,
        },
        Scenario {
            name: "t7-seeds",
            summary: "T7b: 64 seeds of the trainer's estimator per regime: task reward vs sharpening",
            run: crate::dynamics::reports::seeds_report,
        },
        Scenario {
            name: "t7-tree",
            summary: "T7b on tabular autoregressive trees, with EOS and with EOS ignored in the rollouts",
            run: crate::dynamics::reports::tree_report,
        },
        Scenario {
            name: "t7-self-certainty",
            summary: "T7c: reward = own log-likelihood: vertices stable, uniform-over-subset equilibria unstable",
            run: crate::dynamics::reports::self_certainty_report,
        },
        Scenario {
            name: "t7-near-tie",
            summary: "T7c: with near-tied top responses the seed decides which vertex sharpening locks onto",
            run: crate::dynamics::reports::near_tie_report,
        },
        Scenario {
            name: "t7-perturbation",
            summary: "T7d: ε-perturbations of π_ref make argmax optima jump; tilted targets move by O(ε)",
            run: crate::dynamics::reports::perturbation_report,
        },
        Scenario {
            name: "tree-length-bias",
            summary:
                "T4: sum sharpening picks the short answer, mean sharpening the confident loop; fixed length is flat",
            run: crate::tree::scenarios::length_bias_report,
        },
        Scenario {
            name: "tree-alpha-critical",
            summary: "T5: the length of π_ref^α runs to the cap below α*, collapses above 1 (geometric family)",
            run: crate::tree::scenarios::alpha_critical_report,
        },
        Scenario {
            name: "tree-power-vs-temperature",
            summary: "T6: exact power conditionals p^α·Z_α vs token temperature 1/α (KL, accuracy, length)",
            run: crate::tree::scenarios::power_vs_temperature_report,
        },
        Scenario {
            name: "tree-fixed-length",
            summary: "T8: with EOS forbidden the length effect is gone, the unfavourable optimum stays",
            run: crate::tree::scenarios::fixed_length_report,
        },
    ]
}

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

pub fn find(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
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

fn many_paths_report() -> Report {
    let b = many_paths();
    let base = b.base();
    let mode = (0..b.len()).max_by(|&i, &j| base[i].total_cmp(&base[j])).unwrap();
    let t3 = theory::unfavourable_optimum(&b, &PAPER_ALPHAS, &TILT_GRID);

    let mut base_t = Table::new("The base model π_ref", &["quantity", "value"]);
    base_t.push(row!["P_ref(correct)", t3.p_ref_correct]);
    base_t.push(row!["mode string's probability", base[mode]]);
    base_t.push(row!["mode string's answer", b.responses()[mode].answer.as_str()]);
    base_t.push(row!["mode string's reward", b.responses()[mode].reward]);
    base_t.push(row!["mean length", b.expected_length(&base)]);

    let mut regimes =
        Table::new("Each regime's optimum", &["regime", "accuracy", "mean length", "P(mode string)", "entropy (nats)"]);
    for r in headline_regimes() {
        let t = b.target(&r);
        regimes.push(row![r.name(), b.expected_reward(&t), b.expected_length(&t), t[mode], entropy(&t)]);
    }

    let mut tempered = Table::new(
        "Tempered path π_ref^α: accuracy and its slope Cov(r, log π_ref)",
        &["alpha", "accuracy", "dE[r]/dα"],
    );
    for &(a, acc) in &t3.tempered_accuracy {
        tempered.push(row![a, acc, theory::tempered_accuracy_slope(&b, a)]);
    }
    let mut tilted = Table::new(
        "Tilted path π_ref·e^{β⁻¹ r}: accuracy and its slope Var(r) ≥ 0",
        &["beta_inv", "accuracy", "dE[r]/dβ⁻¹"],
    );
    for &(bi, acc) in &t3.tilted_accuracy {
        tilted.push(row![bi, acc, theory::tilted_accuracy_slope(&b, bi)]);
    }
    let mut maj = Table::new("maj@k of π_ref: voting over samples recovers the answer the mode hides", &["k", "maj@k"]);
    for &(k, m) in &t3.maj_at_k {
        maj.push(row![k, m]);
    }

    Report {
        scenario: "many-paths".into(),
        message: format!(
            "π_ref is right {:.0}% of the time, yet its mode — the sharpening optimum — is wrong \
             (accuracy {:.2}); π_ref^α loses accuracy as α grows, while tilting by the task reward \
             only raises it and maj@16 of π_ref is {:.3}.",
            100.0 * t3.p_ref_correct,
            t3.sharpening_accuracy,
            t3.maj_at_k[15].1
        ),
        tables: vec![base_t, regimes, tempered, tilted, maj],
    }
}
