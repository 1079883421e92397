//! Figures and the results table drawn from run logs (LLM or toy): training curves per regime,
//! pass@k / maj@k curves per regime, and one results row per regime.

use super::{family_color, Axis, Figure, Panel, Series, Style};
use crate::runlog::{EvalRecord, StepRecord};
use crate::runs::Group;
use crate::stats::{mean, quantile};
use std::collections::BTreeMap;
use std::fmt::Write;

pub const CURVES: &str = "llm-training-curves";
pub const PASS_AT_K: &str = "llm-pass-at-k";
pub const RESULTS: &str = "llm-results";
/// Training-batch quantities are averaged over this many trailing steps before plotting.
pub const SMOOTH: usize = 10;

/// One colour per group: the regime family's colour while families are unique, else by index.
fn colors(groups: &[Group]) -> Vec<usize> {
    let fam: Vec<usize> = groups.iter().map(|g| family_color(g.family)).collect();
    let mut seen = fam.clone();
    seen.sort();
    seen.dedup();
    if seen.len() == fam.len() {
        fam
    } else {
        (0..groups.len()).collect()
    }
}

fn trailing_mean(s: &[(f64, f64)], w: usize) -> Vec<(f64, f64)> {
    (0..s.len())
        .map(|i| (s[i].0, mean(&s[i.saturating_sub(w - 1)..=i].iter().map(|p| p.1).collect::<Vec<_>>())))
        .collect()
}

/// Median over a group's runs at every step, with the 10–90% band when there are several runs.
fn group_series(g: &Group, color: usize, smooth: usize, f: impl Fn(&StepRecord) -> Option<f64>) -> Option<Series> {
    let mut at: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for run in &g.runs {
        let s: Vec<(f64, f64)> = run.log.steps.iter().filter_map(|st| f(st).map(|v| (st.step as f64, v))).collect();
        for (x, y) in trailing_mean(&s, smooth.max(1)) {
            at.entry(x as u64).or_default().push(y);
        }
    }
    if at.is_empty() {
        return None;
    }
    let label = format!("{} ({} run{})", g.name, g.runs.len(), if g.runs.len() == 1 { "" } else { "s" });
    Some(if g.runs.len() > 1 {
        Series::new(label, Style::Band, color)
            .band(at.iter().map(|(&x, v)| (x as f64, quantile(v, 0.5), quantile(v, 0.1), quantile(v, 0.9))))
    } else {
        Series::new(label, Style::Line, color).xy(at.iter().map(|(&x, v)| (x as f64, v[0])))
    })
}

/// Task reward, validation accuracy and mean length over steps, one line (or band) per regime.
pub fn curves(groups: &[Group]) -> Figure {
    let cs = colors(groups);
    let mut panels = vec![
        Panel::new(
            "Training reward",
            Axis::new("optimiser step"),
            Axis::new(format!("task reward r (mean of last {SMOOTH} steps)")),
        ),
        Panel::new("Validation accuracy", Axis::new("optimiser step"), Axis::new("validation accuracy")),
        Panel::new(
            "Response length",
            Axis::new("optimiser step"),
            Axis::new(format!("mean length, tokens (mean of last {SMOOTH} steps)")),
        ),
    ];
    for (g, &c) in groups.iter().zip(&cs) {
        panels[0].series.extend(group_series(g, c, SMOOTH, |s| Some(s.task_reward)));
        panels[1].series.extend(group_series(g, c, 1, |s| s.val_accuracy));
        panels[2].series.extend(group_series(g, c, SMOOTH, |s| Some(s.length.mean)));
    }
    let several = groups.iter().any(|g| g.runs.len() > 1);
    Figure {
        name: CURVES.into(),
        title: format!(
            "Training curves per regime{}: task reward, validation accuracy and response length over steps",
            if several { " (median over seeds, 10–90% band)" } else { "" }
        ),
        panels,
        columns: 3,
    }
}

/// The evaluations a group is summarised by: each run's last evaluation on the dataset with
/// the most problems, and the first evaluation when it is of the base model (step 0).
fn evals(g: &Group) -> (Option<String>, Vec<&EvalRecord>, Option<&EvalRecord>) {
    let dataset = g.runs.iter().flat_map(|r| &r.log.evals).max_by_key(|e| e.problems).map(|e| e.dataset.clone());
    let Some(ds) = dataset.clone() else { return (None, vec![], None) };
    let last = g.runs.iter().filter_map(|r| r.log.evals.iter().filter(|e| e.dataset == ds).last()).collect();
    let base = g.runs.iter().filter_map(|r| r.log.evals.iter().find(|e| e.dataset == ds && e.step == 0)).next();
    (dataset, last, base)
}

fn by_k(m: &BTreeMap<String, f64>) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = m.iter().filter_map(|(k, &p)| k.parse::<f64>().ok().map(|k| (k, p))).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

fn mean_over(evals: &[&EvalRecord], pick: impl Fn(&EvalRecord) -> &BTreeMap<String, f64>) -> Vec<(f64, f64)> {
    let mut at: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for e in evals {
        for (k, p) in by_k(pick(e)) {
            at.entry(k as u64).or_default().push(p);
        }
    }
    at.into_iter().map(|(k, v)| (k as f64, mean(&v))).collect()
}

/// pass@k and maj@k of each regime's final policy (mean over runs), with the base model.
pub fn pass_at_k(groups: &[Group]) -> Option<Figure> {
    let cs = colors(groups);
    let mut pass = Panel::new("pass@k", Axis::new("k (samples per problem, log scale)").log2(), Axis::new("pass@k"));
    let mut maj = Panel::new("maj@k", Axis::new("k (samples per problem, log scale)").log2(), Axis::new("maj@k"));
    let mut base_drawn = false;
    let mut datasets = Vec::new();
    for (g, &c) in groups.iter().zip(&cs) {
        let (ds, last, base) = evals(g);
        if last.is_empty() {
            continue;
        }
        datasets.extend(ds);
        pass.series.push(Series::new(g.name.clone(), Style::LinePoints, c).xy(mean_over(&last, |e| &e.pass_at_k)));
        maj.series.push(Series::new(g.name.clone(), Style::LinePoints, c).xy(mean_over(&last, |e| &e.maj_at_k)));
        if let (Some(b), false) = (base, base_drawn) {
            base_drawn = true;
            pass.series.push(Series::new("base model (step 0)", Style::Dashed, 7).xy(by_k(&b.pass_at_k)));
            maj.series.push(Series::new("base model (step 0)", Style::Dashed, 7).xy(by_k(&b.maj_at_k)));
        }
    }
    if pass.series.is_empty() {
        return None;
    }
    datasets.sort();
    datasets.dedup();
    Some(Figure {
        name: PASS_AT_K.into(),
        title: format!(
            "pass@k and maj@k of each regime's final policy on {} (mean over runs)",
            if datasets.is_empty() { "the evaluation set".to_string() } else { datasets.join(", ") }
        ),
        panels: vec![pass, maj],
        columns: 2,
    })
}

/// One row per regime: the numbers a results section quotes.
pub struct Results {
    pub markdown: String,
    pub csv: String,
}

pub fn results(groups: &[Group]) -> Results {
    let cols = [
        "regime",
        "runs",
        "steps",
        "final task reward",
        "best val accuracy",
        "last val accuracy",
        "dataset",
        "pass@1",
        "pass@k max",
        "maj@k max",
        "mean length",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    let f = |x: f64| if x.is_finite() { format!("{x:.4}") } else { String::new() };
    for g in groups {
        let steps = g.runs.iter().map(|r| r.log.steps.len()).max().unwrap_or(0);
        let last_reward: Vec<f64> = g
            .runs
            .iter()
            .filter_map(|r| {
                let s = &r.log.steps;
                (!s.is_empty()).then(|| {
                    mean(&s[s.len().saturating_sub(SMOOTH)..].iter().map(|x| x.task_reward).collect::<Vec<_>>())
                })
            })
            .collect();
        let vals = |pick: fn(&[f64]) -> f64| -> f64 {
            let v: Vec<f64> = g
                .runs
                .iter()
                .filter_map(|r| {
                    let v: Vec<f64> = r.log.steps.iter().filter_map(|s| s.val_accuracy).collect();
                    (!v.is_empty()).then(|| pick(&v))
                })
                .collect();
            mean(&v)
        };
        let best = vals(|v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let last = vals(|v| v[v.len() - 1]);
        let (ds, ev, _) = evals(g);
        let pass = mean_over(&ev, |e| &e.pass_at_k);
        let majk = mean_over(&ev, |e| &e.maj_at_k);
        let p1 = pass.iter().find(|p| p.0 == 1.0).map(|p| p.1).unwrap_or(f64::NAN);
        let pk = pass.last().map(|p| format!("{} (k={})", f(p.1), p.0)).unwrap_or_default();
        let mk = majk.last().map(|p| format!("{} (k={})", f(p.1), p.0)).unwrap_or_default();
        let len = mean(&ev.iter().map(|e| e.mean_length).collect::<Vec<_>>());
        rows.push(vec![
            g.name.clone(),
            g.runs.len().to_string(),
            steps.to_string(),
            f(mean(&last_reward)),
            f(best),
            f(last),
            ds.unwrap_or_default(),
            f(p1),
            pk,
            mk,
            f(len),
        ]);
    }
    let mut markdown = format!("| {} |\n|{}\n", cols.join(" | "), "---|".repeat(cols.len()));
    let mut csv = cols.join(",") + "\n";
    for r in &rows {
        writeln!(markdown, "| {} |", r.join(" | ")).unwrap();
        let quoted: Vec<String> = r
            .iter()
            .map(|c| if c.contains([',', '"']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() })
            .collect();
        writeln!(csv, "{}", quoted.join(",")).unwrap();
    }
    Results { markdown, csv }
}
