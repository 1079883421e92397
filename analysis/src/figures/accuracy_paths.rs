//! Accuracy along the tempered path π_ref^α and the tilted path π_ref^α·e^{β⁻¹ r}, and maj@k of
//! π_ref, on the many-paths problem (T2, T3).

use super::{Axis, Figure, Legend, Panel, Series, Style};
use sharpen_toy::problems::many_paths;
use sharpen_toy::regime::PAPER_ALPHAS;
use sharpen_toy::{theory, Regime};

pub const NAME: &str = "accuracy-vs-alpha-beta-inv-many-paths";

pub fn figure() -> Figure {
    let b = many_paths();
    let base = b.base();
    let p_ref = b.expected_reward(&base);
    let sharp = b.expected_reward(&b.target(&Regime::sharpening()));

    let alphas: Vec<f64> = (0..=120).map(|i| i as f64 * 0.05).collect();
    let (a0, a1) = (alphas[0], alphas[alphas.len() - 1]);
    let hline = |label: &str, y: f64, color: usize, x0: f64, x1: f64| {
        Series::new(label, Style::Dashed, color).xy([(x0, y), (x1, y)])
    };
    let tempered = Panel::new(
        "Tempered π_ref^α: accuracy falls as α grows",
        Axis::new("α (exponent on π_ref)"),
        Axis::new("accuracy E[r]").range(0.0, 1.02),
    )
    .legend(Legend::UpperRight)
    .with(
        Series::new("π_ref^α", Style::Line, 3)
            .xy(alphas.iter().map(|&a| (a, b.expected_reward(&theory::tempered(&b, a))))),
    )
    .with(
        Series::new("the paper's α values", Style::Points, 7)
            .xy(PAPER_ALPHAS.iter().map(|&a| (a, b.expected_reward(&theory::tempered(&b, a))))),
    )
    .with(hline("π_ref (α = 1)", p_ref, 6, a0, a1))
    .with(hline("sharpening optimum", sharp, 1, a0, a1));

    let betas: Vec<f64> = (0..=60).map(|i| 10f64.powf(-2.0 + i as f64 / 10.0)).collect();
    let mut tilted = Panel::new(
        "Tilted π_ref^α·e^(β⁻¹ r): accuracy only rises with β⁻¹",
        Axis::new("β⁻¹ (weight of the task reward, log scale)").log(),
        Axis::new("accuracy E[r]").range(0.0, 1.02),
    )
    .legend(Legend::LowerRight);
    for (i, &a) in PAPER_ALPHAS.iter().enumerate() {
        let pts = betas.iter().map(|&bi| (bi, b.expected_reward(&b.target(&Regime::tilted(a, bi).unwrap()))));
        tilted.series.push(Series::new(format!("α = {a}"), Style::Line, [5, 6, 2, 0, 4][i]).xy(pts));
    }

    let ks: Vec<f64> = (1..=16).map(f64::from).collect();
    let maj = Panel::new(
        "Majority vote over π_ref's samples recovers 42",
        Axis::new("k (samples voted over)"),
        Axis::new("maj@k of π_ref").range(0.0, 1.02),
    )
    .legend(Legend::MiddleRight)
    .with(
        Series::new("maj@k of π_ref", Style::LinePoints, 0).xy(ks.iter().map(|&k| (k, b.maj_at_k(&base, k as usize)))),
    )
    .with(hline("π_ref accuracy", p_ref, 6, 1.0, 16.0))
    .with(hline("sharpening optimum", sharp, 1, 1.0, 16.0));

    Figure {
        name: NAME.into(),
        title: format!(
            "π_ref answers correctly {:.0}% of the time; sharpening (α → ∞) drives accuracy to {sharp:.0}, tilting by the \
             task reward only raises it, and majority voting over π_ref's samples beats both",
            100.0 * p_ref
        ),
        panels: vec![tempered, tilted, maj],
        columns: 3,
    }
}
