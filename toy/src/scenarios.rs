//! Named scenarios: small exact problems that each make one point of the theory.
//! `sharpen toy list` prints this registry; `sharpen toy scenario NAME` runs one.

use crate::logspace::entropy;
use crate::problems::{headline_regimes, many_paths, TILT_GRID};
use crate::regime::PAPER_ALPHAS;
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

pub fn find(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
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
