//! T7(c): self-referential sharpening (reward = the policy's own log-likelihood). Where the seeds
//! end up as π_ref's two top responses get closer, and the eigenvalues at the fixed points.

use super::{Axis, Figure, Legend, Panel, Series, Style};
use sharpen_toy::dynamics::reports::scenario_config;
use sharpen_toy::dynamics::t7::{seed_vs_gap, self_certainty_fixed_points};
use sharpen_toy::dynamics::{Objective, Stability};
use sharpen_toy::problems::small_four;
use sharpen_toy::Regime;

pub const NAME: &str = "self-referential-sharpening";
pub const SEEDS: usize = 32;
pub const GAPS: [f64; 8] = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5];

pub fn figure() -> Figure {
    let cfg = scenario_config();
    let threads = super::toy_training::threads();
    let mut seeds = Panel::new(
        format!("near-tie(gap): where {SEEDS} seeds end up"),
        Axis::new("gap log π_ref(mode) − log π_ref(runner-up) (nats)"),
        Axis::new("fraction of seeds").range(0.0, 1.02),
    );
    for (o, color) in [(Objective::SelfCertainty, 4), (Regime::sharpening().into(), 1)] {
        let rows = seed_vs_gap(o, &GAPS, &cfg, SEEDS, threads).expect("near-tie has π_ref > 0");
        let name = o.name();
        seeds.series.push(
            Series::new(format!("{name}: → π_ref's mode (wrong)"), Style::LinePoints, color)
                .xy(rows.iter().map(|r| (r.gap, r.to_mode))),
        );
        seeds.series.push(
            Series::new(format!("{name}: → runner-up (correct)"), Style::Dashed, color)
                .xy(rows.iter().map(|r| (r.gap, r.to_runner_up))),
        );
    }
    seeds.legend = Legend::MiddleRight;

    let fps = self_certainty_fixed_points(&small_four(), 10).expect("small-four has π_ref > 0");
    let mut eig = Panel::new(
        "small-four: fixed points of the self-referential flow",
        Axis::new("responses kept by the fixed point (face size |S|)"),
        Axis::new("eigenvalue within the face (gauge removed)"),
    );
    for (stab, color, label) in [
        (Stability::Unstable, 1, "interior of the simplex: unstable"),
        (Stability::Saddle, 3, "interior of a smaller face: saddle"),
        (Stability::Stable, 2, "stable"),
        (Stability::Marginal, 6, "marginal"),
    ] {
        let pts: Vec<(f64, f64)> = fps
            .iter()
            .filter(|f| f.stability == stab)
            .flat_map(|f| f.internal.iter().map(move |&e| (f.support.len() as f64, e)))
            .collect();
        if !pts.is_empty() {
            eig.series.push(Series::new(label, Style::Points, color).xy(pts));
        }
    }
    eig.series.push(Series::new("1/|S|", Style::Dashed, 6).xy((2..=4).map(|k| (k as f64, 1.0 / k as f64))));
    eig.series.push(Series::new("", Style::Dashed, 7).xy([(1.8, 0.0), (4.2, 0.0)]));
    let vertices = fps.iter().filter(|f| f.support.len() == 1 && f.stability == Stability::Stable).count();
    eig.title = format!("small-four: {vertices} stable vertices; every interior fixed point unstable");
    Figure {
        name: NAME.into(),
        title: "Rewarding the policy's own log-likelihood: vertices are stable and interior equilibria unstable, \
                so near-ties between π_ref's top responses are decided by the seed"
            .into(),
        panels: vec![seeds, eig],
        columns: 2,
    }
}
