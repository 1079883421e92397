//! The T7 named scenarios (registered in [`crate::scenarios`]): each builds a [`Report`].

use super::fixed_points::FixedPoint;
use super::objective::Objective;
use super::t7;
use super::train::TrainConfig;
use crate::bandit::Bandit;
use crate::problems::{many_paths, near_tie, small_four};
use crate::regime::Regime;
use crate::report::{Report, Table};
use crate::row;

/// Threads for the scenarios' stochastic runs (results do not depend on it).
fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The regimes whose flows have a closed-form end point reached at a finite time.
pub fn flow_objectives() -> Vec<Objective> {
    vec![
        Regime::control().into(),
        Regime::tempered(0.5).unwrap().into(),
        Regime::tempered(2.0).unwrap().into(),
        Regime::tempered(4.0).unwrap().into(),
        Regime::tilted(1.0, 10.0).unwrap().into(),
        Regime::tilted(4.0, 10.0).unwrap().into(),
        Regime::sharpening().into(),
        Regime::task_reward().into(),
        Objective::SelfCertainty,
    ]
}

/// The flow report's horizon: the tempered flows settle to ~1e-11 by then, tilted ones (β⁻¹ = 10)
/// to a few 1e-6, and the optimization flows approach their vertices only like 1/t.
pub const FLOW_T_END: f64 = 1e6;

/// T7(a): exact flows from π_ref on many-paths and their end points.
pub fn flow_report() -> Report {
    let b = many_paths();
    let mut t = Table::new(
        "Exact flow dθ/dt = G(θ) from π_ref, integrated to t = 10⁶ (Dormand–Prince), against the closed form",
        &["regime", "accuracy at end", "closed-form accuracy", "max |π_end − π*|", "P(mode string) at end"],
    );
    for o in flow_objectives() {
        let f = t7::flow_end(&b, o, FLOW_T_END).expect("many-paths has π_ref > 0");
        t.push(row![f.objective, f.end_accuracy, f.target_accuracy, f.max_abs_error, f.end[0]]);
    }
    Report {
        scenario: "t7-flow".into(),
        message: "Sampling-mode flows (control, tempered, tilted) converge to their Gibbs targets; sharpening's \
                  flow runs to the mode string (wrong) and task reward's to the correct set, both only like 1/t \
                  (softmax policy gradients have no exponential rate at a vertex); the self-referential flow \
                  runs to π_ref's mode."
            .into(),
        tables: vec![t],
    }
}

fn fixed_point_table(title: &str, b: &Bandit, fps: &[FixedPoint]) -> Table {
    let mut t = Table::new(title, &["support", "accuracy", "stability", "internal eigenvalues", "max transverse rate"]);
    for fp in fps {
        let support = if fp.support.len() <= 4 {
            fp.support.iter().map(|i| format!("{i}:{}", b.responses()[*i].answer)).collect::<Vec<_>>().join(" ")
        } else {
            format!("top {} of {}", fp.support.len(), b.len())
        };
        let internal = match fp.internal.as_slice() {
            [] => "—".to_string(),
            [x] => format!("{x:.4}"),
            v => format!("{:.4} … {:.4}", v[0], v[v.len() - 1]),
        };
        let transverse = fp.transverse.iter().map(|t| t.1).fold(f64::NEG_INFINITY, f64::max);
        let tr = if fp.transverse.is_empty() { "—".into() } else { format!("{transverse:.4}") };
        t.push(row![support, fp.accuracy, fp.stability.name(), internal, tr]);
    }
    t
}

/// T7(c): fixed points of the self-referential flow (reward = P) with their eigenvalues.
pub fn self_certainty_report() -> Report {
    let small = small_four();
    let fps = t7::self_certainty_fixed_points(&small, 10).expect("π_ref > 0");
    let mp = many_paths();
    let mut mp_fps = t7::self_certainty_fixed_points(&mp, 10).expect("π_ref > 0");
    // Vertices of many-paths all look alike; keep the first three and the nested top-k faces.
    mp_fps.retain(|f| f.support.len() > 1 || f.support[0] < 3);
    let flow_small = t7::flow_end(&small, Objective::SelfCertainty, 1e6).expect("π_ref > 0");
    let flow_mp = t7::flow_end(&mp, Objective::SelfCertainty, 1e6).expect("π_ref > 0");
    let mut ends = Table::new(
        "Exact self-referential flow from π_ref (t = 10⁶)",
        &["problem", "P_ref(mode)", "P(mode) at end", "accuracy at end", "π_ref accuracy"],
    );
    for (name, b, f) in [("small-four", &small, &flow_small), ("many-paths", &mp, &flow_mp)] {
        let m = t7::closed_form_target(b, &Objective::SelfCertainty).iter().position(|&x| x == 1.0).unwrap();
        ends.push(row![name, b.base()[m], f.end[m], f.end_accuracy, b.expected_reward(&b.base())]);
    }
    Report {
        scenario: "t7-self-certainty".into(),
        message: "Rewarding the policy's own log-likelihood: every vertex is stable (a dropped response has \
                  invasion rate log 0 = −∞), every uniform-over-a-subset equilibrium is unstable (internal \
                  eigenvalues +1/|S| > 0), and the exact flow from π_ref runs to π_ref's own mode."
            .into(),
        tables: vec![
            fixed_point_table("small-four: every face's fixed point (uniform over the face)", &small, &fps),
            fixed_point_table("many-paths: three vertices and the nested top-k faces", &mp, &mp_fps),
            ends,
        ],
    }
}

/// The stochastic runs' settings used by the T7 scenarios.
pub fn scenario_config() -> TrainConfig {
    TrainConfig { base_seed: 2026, ..TrainConfig::paper(200, 0.05) }
}

/// T7(c) under noise: which vertex the seeds reach as a function of π_ref's top-two gap.
pub fn near_tie_report() -> Report {
    let gaps = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
    let cfg = scenario_config();
    let mut t = Table::new(
        "near-tie(gap): 32 seeds × 200 steps, K = 8 × 4 groups, lr 0.05; where the final mode lands",
        &["objective", "gap (nats)", "→ π_ref mode", "→ runner-up", "→ other", "at a vertex", "accuracy"],
    );
    for o in [Objective::SelfCertainty, Regime::sharpening().into()] {
        for r in t7::seed_vs_gap(o, &gaps, &cfg, 32, threads()).expect("π_ref > 0") {
            t.push(row![r.objective, r.gap, r.to_mode, r.to_runner_up, r.to_other, r.at_vertex, r.accuracy]);
        }
    }
    Report {
        scenario: "t7-near-tie".into(),
        message: "When π_ref's two most likely responses are close, the seed decides which one the \
                  self-referential (and the sharpening) dynamics lock onto; the exact flow always picks the mode."
            .into(),
        tables: vec![t],
    }
}

/// The regimes compared under perturbations of π_ref (T7d), in the report and its figure.
pub fn perturbation_regimes() -> [Regime; 4] {
    [Regime::sharpening(), Regime::tempered(4.0).unwrap(), Regime::tilted(1.0, 10.0).unwrap(), Regime::task_reward()]
}

/// T7(d): sensitivity of each regime's optimum to ε-perturbations of π_ref.
pub fn perturbation_report() -> Report {
    let b = near_tie(0.1);
    let regimes = perturbation_regimes();
    let rows =
        t7::perturbation_sensitivity(&b, &regimes, &[0.01, 0.05, 0.1, 0.2, 0.5], 1000, 7).expect("valid perturbations");
    let mut t = Table::new(
        "near-tie(0.1): log π_ref + ε·U[−1,1], 1000 draws per ε",
        &[
            "regime",
            "ε",
            "accuracy jumps (>0.5)",
            "accuracy moved (>0.01)",
            "mean |Δ accuracy|",
            "mean TV/ε",
            "max TV/ε",
        ],
    );
    for r in rows {
        t.push(row![
            r.regime,
            r.epsilon,
            r.jump_fraction,
            r.changed_fraction,
            r.mean_abs_accuracy_change,
            r.mean_tv_over_eps,
            r.max_tv_over_eps
        ]);
    }
    Report {
        scenario: "t7-perturbation".into(),
        message: "Sharpening's optimum is an argmax: once ε reaches the gap it jumps between a wrong and a right \
                  answer; tempered and tilted targets move by O(ε); task reward's optimum does not depend on π_ref's \
                  ranking at all."
            .into(),
        tables: vec![t],
    }
}

/// T7(b): the spread over 64 seeds of each regime's stochastic runs on many-paths.
pub fn seeds_report() -> Report {
    let b = many_paths();
    let cfg = scenario_config();
    let objectives: Vec<Objective> = vec![
        Regime::task_reward().into(),
        Regime::sharpening().into(),
        Regime::tempered(4.0).unwrap().into(),
        Regime::tilted(1.0, 100.0).unwrap().into(),
        Objective::SelfCertainty,
    ];
    let mut t = Table::new(
        "many-paths: 64 seeds × 200 steps (K = 8 × 4 groups, token-level loss, AdamW lr 0.05, clip 1.0): final state",
        &[
            "objective",
            "accuracy mean",
            "q10",
            "q50",
            "q90",
            "length mean",
            "reward std at step 0",
            "clip fraction mean",
            "at a vertex",
        ],
    );
    for o in objectives {
        let spread = t7::seed_spread(&b, o, &cfg, 64, threads()).expect("π_ref > 0");
        let s = spread.last;
        t.push(row![
            o.name(),
            s.accuracy.mean,
            s.accuracy.q10,
            s.accuracy.q50,
            s.accuracy.q90,
            s.length.mean,
            spread.per_step[0].reward_std.mean,
            s.clip_fraction.mean,
            s.at_vertex
        ]);
    }
    Report {
        scenario: "t7-seeds".into(),
        message: "The same estimator and optimiser on each regime's reward: task reward drives every seed to the \
                  correct answer; sharpening drives them to the short wrong mode."
            .into(),
        tables: vec![t],
    }
}

/// T7(b) on tabular autoregressive trees, with and without EOS in the training rollouts.
pub fn tree_report() -> Report {
    use super::tree_policy::TabularTree;
    use crate::tree::{FamilyOptions, FamilySpec, DEFAULT_MAX_NODES};
    let cfg = scenario_config();
    let mut t = Table::new(
        "Trees (geometric: V = 2, cap 8): 32 seeds × 200 steps (K = 8 × 4 groups, token-level loss, AdamW lr 0.05, clip 1.0): final state",
        &["tree", "rollouts", "objective", "accuracy mean", "q10", "q90", "length mean", "reward std at step 0", "at a vertex"],
    );
    let objectives: Vec<Objective> =
        vec![Regime::task_reward().into(), Regime::sharpening().into(), Objective::SelfCertainty];
    for (family, ignore_eos) in
        [("reasoning", false), ("fixed-length", false), ("geometric", false), ("geometric", true)]
    {
        // A cap of 8 keeps the geometric tree at 511 prefixes, so the scenario runs in seconds.
        let opts = FamilyOptions { max_len: (family == "geometric").then_some(8), ..Default::default() };
        let tree =
            FamilySpec::parse(family, &opts).and_then(|s| s.build(DEFAULT_MAX_NODES)).expect("default families build");
        for &o in &objectives {
            let m = TabularTree::new(tree.clone(), o, ignore_eos).expect("valid tree");
            let s = t7::seed_spread_of(&m, o, &cfg, 32, threads());
            t.push(row![
                family,
                if ignore_eos { "EOS ignored" } else { "with EOS" },
                o.name(),
                s.last.accuracy.mean,
                s.last.accuracy.q10,
                s.last.accuracy.q90,
                s.last.length.mean,
                s.per_step[0].reward_std.mean,
                s.last.at_vertex
            ]);
        }
    }
    Report {
        scenario: "t7-tree".into(),
        message: "On sequences the same estimator makes sharpening and self-certainty collapse onto short, \
                  likely strings (the wrong direct answer of the reasoning tree; the empty string of the \
                  geometric one) while task reward raises accuracy; ignoring EOS in the rollouts removes the \
                  length channel."
            .into(),
        tables: vec![t],
    }
}
