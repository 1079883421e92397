//! T3: on many-paths the sharpening optimum is wrong while π_ref is mostly right.

use sharpen_toy::problems::many_paths;
use sharpen_toy::regime::{PAPER_ALPHAS, PAPER_BETA_INVS};
use sharpen_toy::theory::unfavourable_optimum;

#[test]
fn many_paths_optimum_is_unfavourable() {
    let b = many_paths();
    let t = unfavourable_optimum(&b, &PAPER_ALPHAS, &PAPER_BETA_INVS);
    assert!(t.p_ref_correct > 0.7);
    assert_eq!(t.sharpening_accuracy, 0.0);
    // Accuracy of π_ref^α falls for α ≥ 1.
    let acc: Vec<f64> = t.tempered_accuracy.iter().filter(|(a, _)| *a >= 1.0).map(|x| x.1).collect();
    assert!(acc.windows(2).all(|w| w[1] < w[0]), "{acc:?}");
    // The tilt by the task reward moves toward 1.
    assert!(t.tilted_accuracy.last().unwrap().1 > 0.999);
    // Majority voting over π_ref rises with k (odd k, where ties cannot help) and nears 1.
    let maj: Vec<f64> = t.maj_at_k.iter().filter(|(k, _)| k % 2 == 1).map(|x| x.1).collect();
    assert!(maj.windows(2).all(|w| w[1] > w[0]));
    assert!(t.maj_at_k[15].1 > 0.99);
}

#[test]
fn scenario_report_has_its_tables() {
    let s = sharpen_toy::scenarios::find("many-paths").unwrap();
    let r = (s.run)();
    assert_eq!(r.tables.len(), 5);
    assert!(r.message.contains("wrong"));
}
