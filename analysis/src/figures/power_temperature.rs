//! T6: the sequence-level power target π_ref^α is not token-level temperature 1/α: KL between
//! them, and their accuracy and length, against α.

use super::tree_common::{alpha_grid, tree};
use super::{Axis, Figure, Panel, Series, Style};
use sharpen_toy::tree::theory::power_vs_temperature;

pub const NAME: &str = "sequence-power-vs-token-temperature";

pub fn figure() -> Figure {
    let grid = alpha_grid(0.25, 4.0, 0.05);
    let fams = [("reasoning", 0), ("geometric", 2), ("fixed-length:geometric", 6)];
    let alpha = || Axis::new("α (power on π_ref; temperature 1/α)");
    let mut kl = Panel::new("KL(power ‖ temperature)", alpha(), Axis::new("KL (nats)"));
    let mut acc = Panel::new("Accuracy on the reasoning family", alpha(), Axis::new("accuracy E[r]"));
    let mut len = Panel::new("Mean length on the geometric family", alpha(), Axis::new("mean length E[L] (tokens)"));
    for (name, c) in fams {
        let t = tree(name);
        let rows: Vec<_> = grid.iter().map(|&a| power_vs_temperature(&t, a)).collect();
        let style = if name.starts_with("fixed") { Style::Dashed } else { Style::Line };
        kl.series.push(Series::new(name, style, c).xy(rows.iter().map(|r| (r.alpha, r.kl_power_temperature))));
        if name == "reasoning" {
            acc.series.push(
                Series::new("sequence power π_ref^α", Style::Line, 3)
                    .xy(rows.iter().map(|r| (r.alpha, r.power.accuracy))),
            );
            acc.series.push(
                Series::new("token temperature 1/α", Style::Dashed, 0)
                    .xy(rows.iter().map(|r| (r.alpha, r.temperature.accuracy))),
            );
        }
        if name == "geometric" {
            len.series.push(
                Series::new("sequence power π_ref^α", Style::Line, 3)
                    .xy(rows.iter().map(|r| (r.alpha, r.power.mean_length))),
            );
            len.series.push(
                Series::new("token temperature 1/α", Style::Dashed, 0)
                    .xy(rows.iter().map(|r| (r.alpha, r.temperature.mean_length))),
            );
        }
    }
    Figure {
        name: NAME.into(),
        title: "Sequence power π_ref^α is not token temperature 1/α: they agree only at α = 1 (and on fixed-length trees with \
                a depth-only next-token law), and differ in accuracy and length elsewhere"
            .into(),
        panels: vec![kl, acc, len],
        columns: 3,
    }
}
