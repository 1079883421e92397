//! Run-log figures and the results table from synthetic logs: the plotted numbers are the logged
//! ones, and the files are written.

use crate::common;

use common::{run, Shape};
use sharpen_analysis::figures::{self, llm};
use sharpen_analysis::runs::group;
use sharpen_toy::Regime;

fn groups() -> Vec<sharpen_analysis::runs::Group> {
    let up = Shape { acc: (0.4, 0.7), pass16: (0.9, 0.95), ..Shape::default() };
    let down = Shape { acc: (0.5, 0.45), len: (300.0, 100.0), pass16: (0.9, 0.7), ..Shape::default() };
    group(&[
        run(Regime::task_reward(), 0, 60, up, false),
        run(Regime::task_reward(), 1, 60, up, false),
        run(Regime::task_reward(), 2, 60, up, false),
        run(Regime::sharpening(), 0, 60, down, false),
    ])
}

#[test]
fn curves_plot_the_logged_numbers() {
    let g = groups();
    let fig = llm::curves(&g);
    assert_eq!(fig.panels.len(), 3);
    // Three task seeds give a median with a band; one sharpening run gives a line.
    let task = &fig.panels[0].series[0];
    assert!(task.label.starts_with("task (3 runs)"), "{}", task.label);
    assert!(task.points.iter().all(|p| p.lo.unwrap() <= p.y && p.y <= p.hi.unwrap()));
    let sharp = &fig.panels[2].series[1];
    assert!(sharp.label.starts_with("sharpening"));
    // Length: trailing mean of the logged lengths at the first step is the logged value.
    let first = g[1].runs[0].log.steps[0].length.mean;
    assert!((sharp.points[0].y - first).abs() < 1e-12);
    // Validation accuracy is plotted only where it was logged (every 10 steps).
    assert_eq!(fig.panels[1].series[1].points.len(), 6);
}

#[test]
fn pass_at_k_and_results_table() {
    let g = groups();
    let fig = llm::pass_at_k(&g).expect("evals present");
    let pass = &fig.panels[0];
    let task = pass.series.iter().find(|s| s.label == "task").unwrap();
    let last = task.points.last().unwrap();
    assert_eq!(last.x, 16.0);
    assert!((last.y - 0.95).abs() < 1e-12);
    assert!(pass.series.iter().any(|s| s.label == "base model (step 0)"));

    let t = llm::results(&g);
    let rows: Vec<&str> = t.csv.lines().collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("regime,runs,steps"));
    assert!(rows[1].starts_with("task,3,60,"), "{}", rows[1]);
    assert!(t.markdown.contains("| sharpening | 1 | 60 |"), "{}", t.markdown);

    let dir = std::env::temp_dir().join(format!("sharpen-llm-figs-{}", std::process::id()));
    figures::write(&fig, &dir).unwrap();
    figures::write(&llm::curves(&g), &dir).unwrap();
    for name in [llm::PASS_AT_K, llm::CURVES] {
        for ext in ["csv", "svg", "png"] {
            let p = dir.join(format!("{name}.{ext}"));
            assert!(std::fs::metadata(&p).unwrap().len() > 100, "{}", p.display());
        }
    }
    let svg = std::fs::read_to_string(dir.join(format!("{}.svg", llm::PASS_AT_K))).unwrap();
    assert!(svg.contains("pass@k and maj@k"));
    // No temporary files are left behind.
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.')));
    std::fs::remove_dir_all(dir).unwrap();
}
