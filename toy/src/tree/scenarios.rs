//! The named tree scenarios (T4, T5, T6, T8), registered in [`crate::scenarios`].

use super::families::Geometric;
use super::model::Tree;
use super::spec::{FamilyOptions, FamilySpec};
use super::theory::*;
use crate::problems::TILT_GRID;
use crate::regime::{Normalization, PAPER_ALPHAS};
use crate::report::{Report, Table};
use crate::row;

fn named(name: &str) -> Tree {
    FamilySpec::parse(name, &FamilyOptions::default())
        .and_then(|s| s.build(1_000_000))
        .expect("default families are valid")
}

fn tokens(t: &[u32], names: &[&str]) -> String {
    t.iter().map(|&v| names.get(v as usize).copied().unwrap_or("?")).collect::<Vec<_>>().join(" ")
}

/// T4 on the loop family: sum sharpening picks the short answer, mean sharpening the loop.
pub fn length_bias_report() -> Report {
    let tree = named("loop");
    let b = length_bias(&tree);
    let names = ["~", "A", "W1", "W2"];
    let mut t = Table::new(
        "Sharpening optima under sum and mean normalisation (loop family)",
        &["target", "mean length", "accuracy", "one maximiser"],
    );
    t.push(row!["π_ref", b.base.mean_length, b.base.accuracy, "—"]);
    t.push(row![
        "sharpening, N = sum",
        b.sharpening_sum.mean_length,
        b.sharpening_sum.accuracy,
        tokens(&b.optimum_sum, &names)
    ]);
    t.push(row![
        "sharpening, N = mean",
        b.sharpening_mean.mean_length,
        b.sharpening_mean.accuracy,
        tokens(&b.optimum_mean, &names)
    ]);
    let fixed = named("fixed-length:loop");
    let alphas = [0.5, 1.0, 1.25, 2.0, 4.0];
    let mut curve = Table::new(
        "E[L] of π_ref·exp((α−1)N): sum shortens, mean lengthens, fixed length is flat",
        &["alpha", "N = sum", "N = mean", "fixed length (sum)"],
    );
    let (s, m, f) = (
        mean_length_curve(&tree, &alphas, Normalization::Sum),
        mean_length_curve(&tree, &alphas, Normalization::Mean),
        mean_length_curve(&fixed, &alphas, Normalization::Sum),
    );
    for i in 0..alphas.len() {
        curve.push(row![alphas[i], s[i], m[i], f[i]]);
    }
    let mut slope = Table::new("dE[L]/dα at α = 1 = Cov(L, N)", &["normalisation", "slope"]);
    slope.push(row!["sum", b.slope_sum]);
    slope.push(row!["mean", b.slope_mean]);
    Report {
        scenario: "tree-length-bias".into(),
        message: format!(
            "With N = sum the sharpening optimum is the one-token answer (length {:.0}, accuracy {:.0}); with \
             N = mean it is the confident loop run to the cap (length {:.0}, accuracy {:.0}); with fixed length \
             the length channel is gone.",
            b.sharpening_sum.mean_length,
            b.sharpening_sum.accuracy,
            b.sharpening_mean.mean_length,
            b.sharpening_mean.accuracy
        ),
        tables: vec![t, curve, slope],
    }
}

/// T5 on the geometric family: α*, the mean length over α, the slope at α = 1.
pub fn alpha_critical_report() -> Report {
    let tree = named("geometric");
    let g = Geometric::new(2, 0.3, None, tree.max_len()).expect("valid");
    let far = Geometric::new(2, 0.3, None, 200).expect("valid");
    let a_star = alpha_star(&g);
    let alphas = [0.5, 0.6, a_star, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0];
    let mut t = Table::new(
        format!("Mean length and mass at the cap of π_ref^α (cap {} by DP, cap 200 in closed form)", tree.max_len()),
        &["alpha", "E[L] (DP)", "P(cap) (DP)", "E[L] cap 200", "P(cap) cap 200"],
    );
    let pmfs = length_pmfs(&tree, &alphas, Normalization::Sum);
    for (a, pmf) in alphas.iter().zip(&pmfs) {
        let far_pmf = geometric_length_pmf(&far, *a);
        let mean = |p: &[f64]| p.iter().enumerate().map(|(l, x)| l as f64 * x).sum::<f64>();
        t.push(row![*a, mean(pmf), *pmf.last().unwrap(), mean(&far_pmf), *far_pmf.last().unwrap()]);
    }
    let s = slope_at_one(&tree);
    let mut facts = Table::new("The critical α and the slope at α = 1", &["quantity", "value"]);
    facts.push(row!["α* = log V / (log V − log(1−s))", a_star]);
    facts.push(row!["α* read off the DP", alpha_star_dp(&tree).unwrap_or(f64::NAN)]);
    facts.push(row!["dE[L]/dα at 1 = Cov(L, log π_ref)", s.slope]);
    facts.push(row!["−h̄·Var(L)", s.approximation]);
    Report {
        scenario: "tree-alpha-critical".into(),
        message: format!(
            "On {} the length of π_ref^α jumps: below α* = {a_star:.4} the mass runs to the cap, at α = 1 it is \
             the base length, above 1 it collapses toward the empty response (dE[L]/dα = {:.3} at 1).",
            tree.name(),
            s.slope
        ),
        tables: vec![facts, t],
    }
}

/// T6: exact power conditionals against token temperature on three families.
pub fn power_vs_temperature_report() -> Report {
    let mut t = Table::new(
        "Sequence power π_ref^α vs token temperature 1/α",
        &["family", "alpha", "KL(power‖temp)", "acc power", "acc temp", "L power", "L temp"],
    );
    for name in ["reasoning", "geometric", "fixed-length:geometric"] {
        let tree = named(name);
        for &a in &PAPER_ALPHAS {
            let c = power_vs_temperature(&tree, a);
            t.push(row![
                name,
                a,
                c.kl_power_temperature,
                c.power.accuracy,
                c.temperature.accuracy,
                c.power.mean_length,
                c.temperature.mean_length
            ]);
        }
    }
    Report {
        scenario: "tree-power-vs-temperature".into(),
        message: "Token temperature sharpens each step alone; the power target weighs each token by \
                  what follows it (Z_α). They agree at α = 1 and when Z_α is flat across the continuations \
                  of every prefix (fixed length with a depth-only next-token law), and differ otherwise."
            .into(),
        tables: vec![t],
    }
}

/// T8: T3 on the fixed-length reasoning family.
pub fn fixed_length_report() -> Report {
    let tree = named("fixed-length:reasoning");
    let u = unfavourable_optimum(&tree, &PAPER_ALPHAS, &TILT_GRID);
    let lengths = mean_length_curve(&tree, &PAPER_ALPHAS, Normalization::Sum);
    let mut t = Table::new("Tempered path on the fixed-length reasoning family", &["alpha", "accuracy", "mean length"]);
    for ((a, acc), l) in u.tempered_accuracy.iter().zip(&lengths) {
        t.push(row![*a, *acc, *l]);
    }
    let mut facts = Table::new("T3 survives fixed length", &["quantity", "value"]);
    facts.push(row!["P_ref(correct)", u.p_ref_correct]);
    facts.push(row!["sharpening optimum's accuracy", u.sharpening_accuracy]);
    facts.push(row!["maj@16 of π_ref", u.maj_at_k[15].1]);
    facts.push(row![
        "tilted β⁻¹ = 100 accuracy",
        u.tilted_accuracy.iter().find(|x| x.0 == 100.0).map_or(f64::NAN, |x| x.1)
    ]);
    Report {
        scenario: "tree-fixed-length".into(),
        message: format!(
            "Every response has {} tokens, so length plays no role, yet π_ref is right {:.0}% of the time while its \
             mode — the sharpening optimum — is the wrong direct answer.",
            tree.max_len(),
            100.0 * u.p_ref_correct
        ),
        tables: vec![facts, t],
    }
}
