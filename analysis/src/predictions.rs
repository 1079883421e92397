//! The theory's predictions P1–P7 (docs/design.md §5) as checks on run logs.
//!
//! Runs are grouped by the regime and the reward source in their header; every claim of a prediction becomes one
//! [`Check`] with a verdict and its evidence. A verdict is `holds` when the 95% interval lies on
//! the predicted side of the claim's threshold, `fails` when it lies entirely on the other side,
//! and `not enough data` when a group has too few points or the interval straddles the threshold.

use crate::evidence::{drop_from_best, last_window, trend, window_change, Estimate, Series, MIN_RUNS_FOR_CLUSTER};
use crate::runlog::StepRecord;
use crate::runs::{Family, Group};
use crate::stats::{bounded_mean_ci, mean, mean_ci, wilson, Ci};
use serde::Serialize;
use sharpen_toy::report::Table;
use sharpen_toy::row;
use sharpen_toy::RewardSource;

/// P1, P5: an accuracy gain below this (absolute) is "small".
pub const SMALL_GAIN: f64 = 0.05;
/// P2: a drop of accuracy from its best window to the last window above this is a collapse.
pub const COLLAPSE_DROP: f64 = 0.10;
/// P5: the length channel has disappeared when mean length changes by less than this fraction.
pub const LENGTH_TOLERANCE: f64 = 0.05;
/// P6: "stays at π_ref" means a sequence-level KL below this many nats.
pub const KL_TOLERANCE: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    Fails,
    NotEnoughData,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::NotEnoughData => "not enough data",
        })
    }
}

/// One claim of one prediction on one group of runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub prediction: &'static str,
    pub claim: String,
    pub group: String,
    pub runs: usize,
    pub verdict: Verdict,
    /// The statistic the verdict is read from, and its 95% interval.
    pub estimate: Option<f64>,
    pub ci: Option<Ci>,
    pub evidence: String,
}

/// Which side of a threshold the prediction puts the statistic on.
#[derive(Debug, Clone, Copy)]
enum Side {
    Above(f64),
    Below(f64),
    Within(f64, f64),
}

fn decide(ci: &Ci, side: Side) -> Verdict {
    match side {
        Side::Above(x) if ci.lo > x => Verdict::Holds,
        Side::Above(x) if ci.hi < x => Verdict::Fails,
        Side::Below(x) if ci.hi < x => Verdict::Holds,
        Side::Below(x) if ci.lo > x => Verdict::Fails,
        Side::Within(a, b) if ci.lo >= a && ci.hi <= b => Verdict::Holds,
        Side::Within(a, b) if ci.hi < a || ci.lo > b => Verdict::Fails,
        _ => Verdict::NotEnoughData,
    }
}

fn per_run(g: &Group, f: impl Fn(&StepRecord) -> Option<f64>) -> Vec<Series> {
    g.runs.iter().map(|r| r.log.steps.iter().filter_map(|s| f(s).map(|v| (s.step as f64, v))).collect()).collect()
}

struct Builder<'a> {
    group: &'a Group,
    out: Vec<Check>,
    seed: u64,
}

impl Builder<'_> {
    fn push(&mut self, prediction: &'static str, claim: &str, est: Option<Estimate>, side: Side, evidence: String) {
        let (verdict, estimate, ci, evidence) = match est {
            Some(e) => (decide(&e.ci, side), Some(e.value), Some(e.ci), evidence),
            None if evidence.is_empty() => (Verdict::NotEnoughData, None, None, "too few points".to_string()),
            None => (Verdict::NotEnoughData, None, None, evidence),
        };
        self.out.push(Check {
            prediction,
            claim: claim.to_string(),
            group: self.group.name.clone(),
            runs: self.group.runs.len(),
            verdict,
            estimate,
            ci,
            evidence,
        });
    }

    fn next_seed(&mut self) -> u64 {
        self.seed += 1;
        self.seed
    }

    /// A trend over steps; `per` rescales the slope for reading (per 100 steps).
    fn trend(&mut self, p: &'static str, claim: &str, what: &str, f: impl Fn(&StepRecord) -> Option<f64>, side: Side) {
        let seed = self.next_seed();
        let est = trend(&per_run(self.group, f), seed).map(|e| scale(e, 100.0));
        let ev = est
            .map(|e| format!("slope of {what} {:+.4} per 100 steps, CI [{:+.4}, {:+.4}]", e.value, e.ci.lo, e.ci.hi));
        self.push(p, claim, est, side, ev.unwrap_or_default());
    }

    /// The accuracy gain over the run (see [`accuracy_gain`]).
    fn gain(&mut self, p: &'static str, claim: &str, side: Side) {
        let seed = self.next_seed();
        match accuracy_gain(self.group, seed) {
            Some((e, ev)) => self.push(p, claim, Some(e), side, ev),
            None => self.push(p, claim, None, side, String::new()),
        }
    }
}

fn scale(e: Estimate, k: f64) -> Estimate {
    Estimate { value: e.value * k, ci: Ci { lo: e.ci.lo * k, hi: e.ci.hi * k } }
}

/// A first→last evaluation change averaged over runs, with an interval covering both sources of
/// error. The evaluation's own: each pass@k is a mean over its problems of values in [0, 1], so
/// `var` (the sum over runs of both evaluations' squared half-widths) gives a normal interval
/// for the mean. The seeds': from [`MIN_RUNS_FOR_CLUSTER`] runs on, a bootstrap over runs of
/// their changes, as every other check does. The interval is the union of the two: with few runs
/// the bootstrap alone can be narrower than the measurement error, and the measurement interval
/// alone would call a regime decided whose seeds split between two outcomes (half of them
/// collapsing, half not).
fn eval_change(diffs: &[f64], var: f64, seed: u64) -> Option<Estimate> {
    let d = mean(diffs);
    let half = var.sqrt() / diffs.len() as f64;
    let mut ci = Ci { lo: d - half, hi: d + half };
    if diffs.len() >= MIN_RUNS_FOR_CLUSTER {
        let runs = mean_ci(diffs, seed)?;
        ci = Ci { lo: ci.lo.min(runs.lo), hi: ci.hi.max(runs.hi) };
    }
    Some(Estimate { value: d, ci })
}

/// Accuracy gain from the start to the end of the runs, from the best source available:
/// pass@1 of the first and last evaluations (the dataset with most problems; CI from
/// [`eval_change`]), else the validation accuracy logged on steps, else the task reward
/// of the training batches (first vs last window).
fn accuracy_gain(g: &Group, seed: u64) -> Option<(Estimate, String)> {
    let mut diffs = Vec::new();
    let mut var = 0.0;
    for run in &g.runs {
        let Some(dataset) = run.log.evals.iter().max_by_key(|e| e.problems).map(|e| e.dataset.clone()) else { break };
        let evals: Vec<_> =
            run.log.evals.iter().filter(|e| e.dataset == dataset && e.pass_at_k.contains_key("1")).collect();
        if evals.len() < 2 {
            break;
        }
        let (a, b) = (evals[0], evals[evals.len() - 1]);
        let (pa, pb) = (a.pass_at_k["1"], b.pass_at_k["1"]);
        diffs.push(pb - pa);
        let half = |p: f64, n: usize| bounded_mean_ci(p, n).map(|c| ((c.hi - c.lo) / 2.0).powi(2)).unwrap_or(f64::NAN);
        var += half(pa, a.problems) + half(pb, b.problems);
    }
    if diffs.len() == g.runs.len() && !diffs.is_empty() {
        let e = eval_change(&diffs, var, seed)?;
        return Some((
            e,
            format!("pass@1 first→last evaluation {:+.4}, CI [{:+.4}, {:+.4}]", e.value, e.ci.lo, e.ci.hi),
        ));
    }
    for (what, f) in [
        ("validation accuracy", (|s: &StepRecord| s.val_accuracy) as fn(&StepRecord) -> Option<f64>),
        ("training-batch accuracy", |s: &StepRecord| Some(s.task_reward)),
    ] {
        if let Some((e, a, b)) = window_change(&per_run(g, f), seed) {
            let ev = format!(
                "{what} {a:.4} → {b:.4} (first vs last window): {:+.4}, CI [{:+.4}, {:+.4}]",
                e.value, e.ci.lo, e.ci.hi
            );
            return Some((e, ev));
        }
    }
    None
}

/// Every check that applies to one group of runs.
pub fn check_group(g: &Group) -> Vec<Check> {
    let mut b = Builder { group: g, out: Vec::new(), seed: 0 };
    if g.reward != RewardSource::Task {
        // The regime's claims are about a task reward; a self-reward run is checked on what its
        // reward asks for instead.
        self_reward_checks(&mut b);
        return b.out;
    }
    let length = |s: &StepRecord| Some(s.length.mean);
    if g.fixed_length {
        let seed = b.next_seed();
        let est = window_change(&per_run(g, length), seed).map(|(e, first, _)| {
            let r = 1.0 / first.abs().max(1e-12);
            (scale(e, r), first)
        });
        let ev = est.map(|(e, first)| {
            format!(
                "mean length {first:.1} at the start, relative change {:+.4}, CI [{:+.4}, {:+.4}]",
                e.value, e.ci.lo, e.ci.hi
            )
        });
        b.push(
            "P5",
            "fixed length: mean length does not move",
            est.map(|e| e.0),
            Side::Within(-LENGTH_TOLERANCE, LENGTH_TOLERANCE),
            ev.unwrap_or_default(),
        );
        if g.family == Family::Sharpening {
            b.gain("P5", "fixed length: sharpening's accuracy gain stays small", Side::Below(SMALL_GAIN));
        }
        return b.out;
    }
    match g.family {
        Family::Sharpening => {
            b.trend("P1", "mean response length falls", "mean length", length, Side::Below(0.0));
            b.trend(
                "P1",
                "reference log-likelihood of samples rises",
                "log π_ref(y)",
                |s| Some(s.ref_logprob),
                Side::Above(0.0),
            );
            b.gain("P1", "accuracy gain is small or negative", Side::Below(SMALL_GAIN));
            let steps = g.runs.iter().flat_map(|r| &r.log.steps);
            let (n, k) = steps.fold((0, 0), |(n, k), s| (n + 1, k + usize::from(s.clipped)));
            let ci = wilson(k, n);
            let est = ci.map(|ci| Estimate { value: k as f64 / n as f64, ci });
            let ev = format!("{k} of {n} steps clipped");
            b.push("P1", "gradient clipped on most steps", est, Side::Above(0.5), ev);
        }
        Family::Task => {
            b.gain("P2", "validation accuracy rises", Side::Above(0.0));
            let seed = b.next_seed();
            let acc = accuracy_series(g);
            let est = drop_from_best(&acc, seed);
            let ev = est.map(|e| {
                format!("drop from best window to last {:+.4}, CI [{:+.4}, {:+.4}]", e.value, e.ci.lo, e.ci.hi)
            });
            b.push("P2", "learning is stable (no collapse)", est, Side::Below(COLLAPSE_DROP), ev.unwrap_or_default());
        }
        Family::Tempered if g.regime.alpha > 1.0 => {
            b.trend("P3", "mean length falls (α > 1)", "mean length", length, Side::Below(0.0));
            b.trend("P3", "entropy falls (α > 1)", "entropy", |s| Some(s.entropy), Side::Below(0.0));
            let seed = b.next_seed();
            let (est, ev) = pass_at_large_k_change(g, seed);
            b.push("P3", "pass@k at the largest k falls (α > 1)", est, Side::Below(0.0), ev);
        }
        Family::Tilted => b.gain("P4", "accuracy rises like task reward", Side::Above(0.0)),
        Family::Control => {
            let seed = b.next_seed();
            let est = last_window(&per_run(g, |s| Some(s.kl_ref)), seed);
            let ev = est.map(|e| {
                format!("KL(π‖π_ref) over the last window {:.4} nats, CI [{:.4}, {:.4}]", e.value, e.ci.lo, e.ci.hi)
            });
            b.push("P6", "policy stays at π_ref (KL ≈ 0)", est, Side::Below(KL_TOLERANCE), ev.unwrap_or_default());
        }
        _ => {}
    }
    b.out
}

/// P7: a self-reward moves the quantity it rewards. Self-certainty rises; the mean token entropy
/// falls; agreement with the Group's majority rises, and since the pseudo-label can only teach
/// what the model already answers most often, accuracy ends at most at the base model's
/// majority vote (the Group's maj@K over the first window), not above it.
fn self_reward_checks(b: &mut Builder) {
    match b.group.reward {
        RewardSource::SelfCertainty => b.trend(
            "P7",
            "self-certainty: self-certainty rises",
            "KL(U‖π) per position",
            |s| s.self_certainty,
            Side::Above(0.0),
        ),
        RewardSource::NegEntropy => b.trend(
            "P7",
            "neg_entropy: mean token entropy falls",
            "H(π) per position",
            |s| s.token_entropy,
            Side::Below(0.0),
        ),
        RewardSource::Majority => {
            b.trend(
                "P7",
                "majority: agreement with the Group's majority rises",
                "majority agreement",
                |s| s.majority_agreement,
                Side::Above(0.0),
            );
            let seed = b.next_seed();
            let est = last_window(&accuracy_over_base_majority(b.group), seed);
            let ev = est.map(|e| {
                format!(
                    "training-batch accuracy over the last window minus the first window's Group maj@K {:+.4}, CI [{:+.4}, {:+.4}]",
                    e.value, e.ci.lo, e.ci.hi
                )
            });
            b.push(
                "P7",
                "majority: accuracy moves toward the base model's maj@K, not above it",
                est,
                Side::Below(SMALL_GAIN),
                ev.unwrap_or_default(),
            );
        }
        RewardSource::Task => {}
    }
}

/// Per run: training-batch accuracy at each step minus the run's base maj@K (the mean Group
/// maj@K over its first window of steps). Runs that did not log the Group maj@K give no points.
fn accuracy_over_base_majority(g: &Group) -> Vec<Series> {
    g.runs
        .iter()
        .map(|r| {
            let maj: Vec<f64> = r.log.steps.iter().filter_map(|s| s.majority_accuracy).collect();
            if maj.len() < crate::evidence::MIN_POINTS {
                return Vec::new();
            }
            let w = crate::evidence::window_len(maj.len());
            let base = mean(&maj[..w]);
            r.log.steps.iter().map(|s| (s.step as f64, s.task_reward - base)).collect()
        })
        .collect()
}

/// Validation accuracy when the run logs it, else the training-batch accuracy.
fn accuracy_series(g: &Group) -> Vec<Series> {
    let val = per_run(g, |s| s.val_accuracy);
    if val.iter().all(|s| s.len() >= crate::evidence::MIN_POINTS) {
        val
    } else {
        per_run(g, |s| Some(s.task_reward))
    }
}

const NO_EVALS: &str = "needs evaluation records with pass@k at two steps in every run";

/// pass@k at the largest logged k: last evaluation minus first (on the dataset with the most
/// problems), averaged over runs; CI from [`eval_change`].
fn pass_at_large_k_change(g: &Group, seed: u64) -> (Option<Estimate>, String) {
    let mut diffs = Vec::new();
    let mut var = 0.0;
    let mut kmax = 0;
    for run in &g.runs {
        let Some(dataset) = run.log.evals.iter().max_by_key(|e| e.problems).map(|e| &e.dataset) else {
            return (None, NO_EVALS.into());
        };
        let evals: Vec<_> = run.log.evals.iter().filter(|e| &e.dataset == dataset).collect();
        let (Some(a), Some(b)) = (evals.first(), evals.last()) else { return (None, NO_EVALS.into()) };
        let k = a.pass_at_k.keys().filter_map(|k| k.parse::<usize>().ok()).max().unwrap_or(0);
        let key = k.to_string();
        let (Some(&pa), Some(&pb), true) = (a.pass_at_k.get(&key), b.pass_at_k.get(&key), a.step < b.step) else {
            return (None, NO_EVALS.into());
        };
        kmax = k;
        diffs.push(pb - pa);
        let half2 = |p: f64, n: usize| bounded_mean_ci(p, n).map(|c| ((c.hi - c.lo) / 2.0).powi(2)).unwrap_or(f64::NAN);
        var += half2(pa, a.problems) + half2(pb, b.problems);
    }
    if diffs.is_empty() {
        return (None, NO_EVALS.into());
    }
    let Some(e) = eval_change(&diffs, var, seed) else { return (None, NO_EVALS.into()) };
    (Some(e), format!("pass@{kmax} first→last evaluation {:+.4}, CI [{:+.4}, {:+.4}]", e.value, e.ci.lo, e.ci.hi))
}

/// Every check on every group.
pub fn check_all(groups: &[Group]) -> Vec<Check> {
    groups.iter().flat_map(check_group).collect()
}

/// The verdict table for printing.
pub fn verdict_table(checks: &[Check]) -> Table {
    let mut t =
        Table::new("Predictions P1–P7 on the given runs", &["prediction", "claim", "runs", "verdict", "evidence"]);
    for c in checks {
        t.push(row![
            c.prediction,
            format!("{} [{}]", c.claim, c.group),
            c.runs,
            c.verdict.to_string(),
            c.evidence.as_str()
        ]);
    }
    t
}
