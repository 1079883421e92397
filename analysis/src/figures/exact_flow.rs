//! T7(a): the exact gradient flow from π_ref — the path the trainer follows in expectation — on
//! many-paths: each regime's accuracy and the probability of π_ref's mode string over time.

use super::{regime_color, Axis, Figure, Panel, Series, Style};
use sharpen_toy::dynamics::flow::{exact_flow, log_times};
use sharpen_toy::dynamics::ode::Tolerance;
use sharpen_toy::dynamics::{Objective, TabularBandit};
use sharpen_toy::problems::many_paths;
use sharpen_toy::Regime;

pub const NAME: &str = "exact-flow-many-paths";
/// The flow is reported at t = 10⁻²…10⁶, 8 points per decade.
pub const T_END: f64 = 1e6;

pub fn figure() -> Figure {
    let b = many_paths();
    let base = b.base();
    let mode = (0..base.len()).max_by(|&x, &y| base[x].total_cmp(&base[y]).then(y.cmp(&x))).unwrap_or(0);
    let times: Vec<f64> = log_times(T_END, 8, 8).into_iter().filter(|&t| t > 0.0).collect();
    let time = || Axis::new("flow time t (log scale)").log();
    let mut acc = Panel::new("Accuracy E_π[r] along the flow", time(), Axis::new("accuracy").range(0.0, 1.02));
    let mut modep =
        Panel::new("Mass on π_ref's mode string (wrong answer 41)", time(), Axis::new("π_t(mode)").range(0.0, 1.02));
    let objectives: Vec<(Objective, usize, Style)> = vec![
        (Regime::sharpening().into(), regime_color(&Regime::sharpening()), Style::Line),
        (Regime::tempered(4.0).unwrap().into(), 3, Style::Line),
        (Regime::control().into(), regime_color(&Regime::control()), Style::Line),
        (Regime::tilted(1.0, 10.0).unwrap().into(), regime_color(&Regime::tilted(1.0, 10.0).unwrap()), Style::Line),
        (Regime::task_reward().into(), regime_color(&Regime::task_reward()), Style::Dashed),
        (Objective::SelfCertainty, 4, Style::Dashed),
    ];
    for (o, c, style) in objectives {
        let model = TabularBandit::new(b.clone(), o).expect("many-paths has π_ref > 0");
        let flow = exact_flow(&model, &times, Tolerance::default());
        acc.series.push(Series::new(o.name(), style, c).xy(flow.points.iter().map(|p| (p.t, p.accuracy))));
        modep.series.push(Series::new(o.name(), style, c).xy(flow.points.iter().map(|p| (p.t, p.policy[mode]))));
    }
    Figure {
        name: NAME.into(),
        title:
            "Exact gradient flow from π_ref on many-paths: sharpening and self-certainty run to the wrong mode string, \
                task reward and the tilted target to the correct answer, tempered α = 4 settles at its Gibbs target"
                .into(),
        panels: vec![acc, modep],
        columns: 2,
    }
}
