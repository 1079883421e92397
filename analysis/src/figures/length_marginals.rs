//! T5: the length marginal of π_ref^α on the geometric family changes abruptly near α = 1:
//! below the critical α* the mass escapes to the length cap, above 1 it collapses to short
//! responses.

use super::tree_common::{alpha_grid, tree};
use super::{Axis, Figure, Legend, Panel, Series, Style};
use sharpen_toy::regime::{Normalization, PAPER_ALPHAS};
use sharpen_toy::tree::theory::{alpha_star, geometric_length_pmf, length_pmfs, mean_length_curve, slope_at_one};
use sharpen_toy::tree::Geometric;

pub const NAME: &str = "length-marginals-vs-alpha";

pub fn figure() -> Figure {
    let t = tree("geometric");
    let g = Geometric::new(2, 0.3, None, t.max_len()).expect("valid");
    let a_star = alpha_star(&g);
    let mut alphas: Vec<f64> = PAPER_ALPHAS.to_vec();
    alphas.push(a_star);
    alphas.sort_by(f64::total_cmp);
    let pmfs = length_pmfs(&t, &alphas, Normalization::Sum);
    let mut marg = Panel::new(
        format!("P(L = ℓ) under π_ref^α (exact DP, cap {})", t.max_len()),
        Axis::new("response length ℓ (tokens)"),
        Axis::new("probability"),
    );
    let colors = [5, 4, 6, 3, 2, 1];
    for (i, (a, pmf)) in alphas.iter().zip(&pmfs).enumerate() {
        let label = if *a == a_star { format!("α* = {a_star:.3}") } else { format!("α = {a}") };
        let style = if *a == a_star { Style::Dashed } else { Style::LinePoints };
        marg.series.push(
            Series::new(label, style, colors[i % colors.len()]).xy(pmf.iter().enumerate().map(|(l, p)| (l as f64, *p))),
        );
    }
    marg.legend = Legend::UpperRight;

    let grid = alpha_grid(0.0, 3.0, 0.02);
    let mut mean = Panel::new(
        "E[L] of π_ref^α: the jump at α* sharpens as the cap grows",
        Axis::new("α (exponent on π_ref)"),
        Axis::new("mean length E[L] / cap"),
    );
    mean.series.push(Series::new(format!("cap {} (exact DP)", t.max_len()), Style::Line, 0).xy(
        grid.iter().zip(mean_length_curve(&t, &grid, Normalization::Sum)).map(|(a, l)| (*a, l / t.max_len() as f64)),
    ));
    for (cap, c) in [(50usize, 2), (200, 1)] {
        let gc = Geometric::new(2, 0.3, None, cap).expect("valid");
        let pts = grid.iter().map(|&a| {
            let pmf = geometric_length_pmf(&gc, a);
            (a, pmf.iter().enumerate().map(|(l, p)| l as f64 * p).sum::<f64>() / cap as f64)
        });
        mean.series.push(Series::new(format!("cap {cap} (closed form)"), Style::Line, c).xy(pts));
    }
    mean.series.push(Series::new(format!("α* = {a_star:.3}"), Style::VLine, 7).xy([(a_star, 0.0)]));
    mean.legend = Legend::UpperRight;
    let s = slope_at_one(&t);
    Figure {
        name: NAME.into(),
        title: format!(
            "Geometric family (2 tokens, stop 0.3): below α* = {a_star:.3} the mass of π_ref^α escapes to the length cap, \
             above α = 1 it collapses to short responses (dE[L]/dα = {:.2} at α = 1, ≈ −h̄·Var L = {:.2})",
            s.slope, s.approximation
        ),
        panels: vec![marg, mean],
        columns: 2,
    }
}
