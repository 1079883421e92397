//! T7(d): sensitivity of each regime's optimum to ε-perturbations of log π_ref on near-tie(0.1):
//! sharpening's argmax jumps between a wrong and a right answer; tilted targets move by O(ε).

use super::{regime_color, Axis, Figure, Panel, Series, Style};
use sharpen_toy::dynamics::t7::perturbation_sensitivity;
use sharpen_toy::problems::near_tie;
use sharpen_toy::Regime;

pub const NAME: &str = "optimum-sensitivity-to-pi-ref";
pub const DRAWS: usize = 1000;
pub const SEED: u64 = 7;
pub const EPSILONS: [f64; 9] = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0];

pub fn figure() -> Figure {
    let b = near_tie(0.1);
    let regimes = sharpen_toy::dynamics::reports::perturbation_regimes();
    let rows = perturbation_sensitivity(&b, &regimes, &EPSILONS, DRAWS, SEED).expect("valid perturbations");
    let eps = || Axis::new("ε: log π_ref + ε·U[−1, 1] per response (nats, log scale)").log();
    let mut jumps =
        Panel::new("Optimum's accuracy jumps by > 0.5", eps(), Axis::new("fraction of draws").range(0.0, 1.02));
    let mut moved = Panel::new("Mean |Δ accuracy| of the optimum", eps(), Axis::new("mean |Δ accuracy|"));
    for r in &regimes {
        let name = r.name();
        let c = if r.mode == sharpen_toy::Mode::Sampling && r.beta_inv == 0.0 { 3 } else { regime_color(r) };
        let mine: Vec<_> = rows.iter().filter(|x| x.regime == name).collect();
        // Task reward and the tilted target both stay put: dash one so both show.
        let style = if *r == Regime::task_reward() { Style::Dashed } else { Style::LinePoints };
        jumps.series.push(Series::new(name.clone(), style, c).xy(mine.iter().map(|x| (x.epsilon, x.jump_fraction))));
        moved
            .series
            .push(Series::new(name.clone(), style, c).xy(mine.iter().map(|x| (x.epsilon, x.mean_abs_accuracy_change))));
    }
    Figure {
        name: NAME.into(),
        title: format!(
            "near-tie(0.1), {DRAWS} perturbations per ε: once ε reaches π_ref's 0.1-nat gap, sharpening's optimum jumps \
             between a wrong and a right answer; tempered targets move continuously; tilted and task-reward optima stay put"
        ),
        panels: vec![jumps, moved],
        columns: 2,
    }
}
