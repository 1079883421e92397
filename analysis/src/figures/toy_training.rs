//! T7(b): the trainer's estimator (RLOO, AdamW, clipping) on each regime's reward over many
//! seeds on the many-paths problem: median and 10–90% band of accuracy, length and reward, and
//! the fraction of seeds whose gradient was clipped.

use super::{regime_color, Axis, Figure, Panel, Series, Style};
use sharpen_toy::dynamics::reports::scenario_config;
use sharpen_toy::dynamics::summary::{Quantiles, StepSummary};
use sharpen_toy::dynamics::t7::seed_spread;
use sharpen_toy::problems::many_paths;
use sharpen_toy::Regime;

pub const NAME: &str = "toy-training-curves-many-paths";
pub const SEEDS: usize = 64;

pub fn regimes() -> Vec<Regime> {
    // Task reward last: its dashed line is drawn over the tilted target it coincides with.
    vec![
        Regime::sharpening(),
        Regime::tempered(4.0).unwrap(),
        Regime::control(),
        Regime::tilted(1.0, 100.0).unwrap(),
        Regime::task_reward(),
    ]
}

pub fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn band(
    label: &str,
    style: Style,
    color: usize,
    steps: &[StepSummary],
    q: impl Fn(&StepSummary) -> Quantiles,
) -> Series {
    Series::new(label, style, color).band(steps.iter().map(|s| {
        let v = q(s);
        (s.step as f64, v.q50, v.q10, v.q90)
    }))
}

pub fn figure() -> Figure {
    let b = many_paths();
    let cfg = scenario_config();
    let step = || Axis::new("optimiser step");
    let mut acc = Panel::new("Accuracy E_π[r] (exact)", step(), Axis::new("accuracy").range(0.0, 1.0));
    let mut len = Panel::new("Expected response length", step(), Axis::new("length (tokens)"));
    let mut rew = Panel::new("Batch-mean regime reward", step(), Axis::new("reward (0/1 or nats)"));
    let mut grad = Panel::new("Gradient norm before clipping", step(), Axis::new("‖g‖ before clipping"));
    let mut final_acc = Vec::new();
    for r in regimes() {
        let s = seed_spread(&b, r.into(), &cfg, SEEDS, threads()).expect("many-paths has π_ref > 0");
        let c = if r == Regime::tempered(4.0).unwrap() { 3 } else { regime_color(&r) };
        let name = r.name();
        // Task reward and the strongly tilted target coincide: dash one so both show.
        let style = if r == Regime::task_reward() { Style::BandDashed } else { Style::Band };
        acc.series.push(band(&name, style, c, &s.per_step, |x| x.accuracy));
        len.series.push(band(&name, style, c, &s.per_step, |x| x.length));
        rew.series.push(band(&name, style, c, &s.per_step, |x| x.reward));
        let clip = s.per_step.iter().map(|x| x.clip_rate).sum::<f64>() / s.per_step.len().max(1) as f64;
        grad.series
            .push(band(&format!("{name} (clipped {:.0}%)", 100.0 * clip), style, c, &s.per_step, |x| x.grad_norm));
        final_acc.push((name, s.last.accuracy.q50));
    }
    let max_norm = grad.series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.hi)).fold(0.0, f64::max);
    if max_norm < cfg.max_grad_norm {
        grad.title = format!("Gradient norm (clip threshold {} never reached)", cfg.max_grad_norm);
    } else {
        let line = [(0.0, cfg.max_grad_norm), (cfg.steps as f64, cfg.max_grad_norm)];
        grad.series.push(Series::new("clip threshold", Style::Dashed, 7).xy(line));
    }
    let get = |n: &str| final_acc.iter().find(|x| x.0 == n).map(|x| x.1).unwrap_or(f64::NAN);
    Figure {
        name: NAME.into(),
        title: format!(
            "One estimator (RLOO, AdamW, clip 1.0), {SEEDS} seeds per regime on many-paths: task reward drives accuracy to \
             {:.2} and sharpening to {:.2} (median, 10–90% band over seeds)",
            get("task"),
            get("sharpening")
        ),
        panels: vec![acc, len, rew, grad],
        columns: 2,
    }
}
