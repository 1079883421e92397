//! T4 and T8: the mean length of π_ref·exp((α−1)N) against α for N = sum, N = mean and a
//! fixed-length tree; and T3 surviving fixed length (accuracy of π_ref^α on fixed-length reasoning).

use super::tree_common::{alpha_grid, tree};
use super::{Axis, Figure, Panel, Series, Style};
use sharpen_toy::regime::Normalization;
use sharpen_toy::tree::theory::{length_bias, mean_length_curve, solve, tempered};
use sharpen_toy::Regime;

pub const NAME: &str = "mean-length-vs-alpha-by-normalization";

pub fn figure() -> Figure {
    let lp = tree("loop");
    let fixed = tree("fixed-length:loop");
    let grid = alpha_grid(0.25, 4.0, 0.05);
    let mut len = Panel::new(
        "Loop family: E[L] of π_ref·exp((α−1)N)",
        Axis::new("α (exponent on π_ref)"),
        Axis::new("mean length E[L] (tokens)"),
    );
    for (label, t, n, c, style) in [
        ("N = sum: shorter as α grows", &lp, Normalization::Sum, 1, Style::Line),
        ("N = mean: longer (the loop)", &lp, Normalization::Mean, 4, Style::Line),
        ("fixed length (EOS ignored)", &fixed, Normalization::Sum, 6, Style::Dashed),
    ] {
        len.series.push(Series::new(label, style, c).xy(grid.iter().copied().zip(mean_length_curve(t, &grid, n))));
    }

    let fr = tree("fixed-length:reasoning");
    let p_ref = solve(&fr, &tempered(1.0, Normalization::Sum)).accuracy;
    let sharp = solve(&fr, &Regime::sharpening()).accuracy;
    let (a0, a1) = (grid[0], grid[grid.len() - 1]);
    let acc = Panel::new(
        format!("Fixed-length reasoning (every response {} tokens)", fr.max_len()),
        Axis::new("α (exponent on π_ref)"),
        Axis::new("accuracy E[r]").range(0.0, 1.02),
    )
    .with(
        Series::new("π_ref^α", Style::Line, 3)
            .xy(grid.iter().map(|&a| (a, solve(&fr, &tempered(a, Normalization::Sum)).accuracy))),
    )
    .with(Series::new("π_ref", Style::Dashed, 6).xy([(a0, p_ref), (a1, p_ref)]))
    .with(Series::new("sharpening optimum", Style::Dashed, 1).xy([(a0, sharp), (a1, sharp)]));
    let b = length_bias(&lp);
    Figure {
        name: NAME.into(),
        title: format!(
            "Length bias (T4): N = sum pulls the sharpening optimum to the shortest answer (length {:.0}), N = mean to the \
             confident loop (length {:.0}), fixed length removes the channel; without it π_ref^α still loses accuracy (T8)",
            b.sharpening_sum.mean_length, b.sharpening_mean.mean_length
        ),
        panels: vec![len, acc],
        columns: 2,
    }
}
