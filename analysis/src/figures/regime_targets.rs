//! The regimes' targets side by side on the many-paths problem (T1, T3): sharpening's optimum
//! is the single most likely string, whose answer is wrong.

use super::{Axis, Figure, Legend, Panel, Series, Style};
use sharpen_toy::problems::many_paths;
use sharpen_toy::Regime;

pub const NAME: &str = "regime-targets-many-paths";

/// Bars coloured by answer: the correct "42" green, the mode's wrong "41" vermillion, "40" grey.
fn answer_color(answer: &str) -> usize {
    match answer {
        "42" => 2,
        "41" => 1,
        _ => 6,
    }
}

pub fn figure() -> Figure {
    let b = many_paths();
    let regimes: Vec<(String, Vec<f64>)> = vec![
        ("π_ref (= control target)".to_string(), b.base()),
        (Regime::task_reward().name(), b.target(&Regime::task_reward())),
        (Regime::sharpening().name(), b.target(&Regime::sharpening())),
        (Regime::tempered(2.0).unwrap().name(), b.target(&Regime::tempered(2.0).unwrap())),
        (Regime::tempered(4.0).unwrap().name(), b.target(&Regime::tempered(4.0).unwrap())),
        (Regime::tilted(4.0, 100.0).unwrap().name(), b.target(&Regime::tilted(4.0, 100.0).unwrap())),
    ];
    let mut answers: Vec<&str> = b.responses().iter().map(|r| r.answer.as_str()).collect();
    answers.dedup();
    let panels = regimes
        .into_iter()
        .enumerate()
        .map(|(i, (name, target))| {
            let acc = b.expected_reward(&target);
            let mut p = Panel::new(
                format!("{name}: accuracy {acc:.2}"),
                Axis::new("response (1 short | 12 paths to 42 | 4 paths to 40)"),
                Axis::new("probability").range(0.0, 1.0),
            )
            .legend(if i == 0 { Legend::UpperRight } else { Legend::Hidden });
            for a in &answers {
                let correct = if *a == "42" { "correct" } else { "wrong" };
                let pts = b
                    .responses()
                    .iter()
                    .zip(&target)
                    .enumerate()
                    .filter(|(_, (r, _))| r.answer == *a)
                    .map(|(i, (_, &q))| (i as f64, q));
                p.series
                    .push(Series::new(format!("answer {a} ({correct})"), Style::Bars(0.75), answer_color(a)).xy(pts));
            }
            p
        })
        .collect();
    Figure {
        name: NAME.into(),
        title: "Sharpening's optimum is π_ref's single most likely string, the wrong short answer 41, although 72% of \
                π_ref's mass reaches the correct 42; task-reward and tilted targets keep every correct path"
            .into(),
        panels,
        columns: 3,
    }
}
