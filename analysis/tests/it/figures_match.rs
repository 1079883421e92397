//! The committed figures/ folder must be what the code draws: every exact-module figure's CSV is
//! regenerated here and compared with the committed one (numbers to 1e-9 relative, text exactly),
//! and its SVG and PNG must exist. To refresh: `cargo run --release -- figures`.

use sharpen_analysis::figures::{self, Figure};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Every exact figure, computed once for both tests (the T7 runs take a few seconds).
fn built() -> &'static [(&'static str, Figure)] {
    static FIGS: OnceLock<Vec<(&'static str, Figure)>> = OnceLock::new();
    FIGS.get_or_init(|| figures::exact().into_iter().map(|f| (f.name, (f.build)())).collect())
}

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("figures")
}

fn same_cell(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-12),
        _ => a == b,
    }
}

#[test]
fn committed_figures_match_the_code() {
    let dir = committed();
    for (name, fig) in built() {
        assert_eq!(&fig.name, name);
        let path = dir.join(format!("{name}.csv"));
        let old = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run `cargo run --release -- figures`", path.display()));
        let new = fig.csv();
        let (ol, nl): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
        assert_eq!(ol.len(), nl.len(), "{name}: row count changed; run `cargo run --release -- figures`");
        for (i, (a, b)) in ol.iter().zip(&nl).enumerate() {
            // Quoted fields hold no numbers, so splitting on commas only has to agree.
            let (ac, bc): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
            assert!(
                ac.len() == bc.len() && ac.iter().zip(&bc).all(|(x, y)| same_cell(x, y)),
                "{name}:{}: committed `{a}` but the code draws `{b}`; run `cargo run --release -- figures`",
                i + 1
            );
        }
        for ext in ["svg", "png"] {
            let p = dir.join(format!("{name}.{ext}"));
            assert!(std::fs::metadata(&p).map(|m| m.len() > 1000).unwrap_or(false), "{} missing", p.display());
        }
    }
}

#[test]
fn every_exact_figure_has_a_title_labels_and_data() {
    let names: Vec<&str> = built().iter().map(|f| f.0).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "figure names must be unique");
    for (name, fig) in built() {
        assert!(fig.title.len() > 30, "{name}: the title should state the message");
        for p in &fig.panels {
            assert!(!p.x.label.is_empty() && !p.y.label.is_empty(), "{name}: unlabelled axis");
            assert!(!p.series.is_empty() && p.series.iter().all(|s| !s.points.is_empty()), "{name}: empty series");
            assert!(p.series.iter().all(|s| s.points.iter().all(|pt| pt.x.is_finite() && pt.y.is_finite())));
        }
    }
}
