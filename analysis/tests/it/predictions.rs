//! P1–P7 on synthetic run logs whose trends are known: each claim must hold when the logs follow
//! the theory, fail when they contradict it, and report "not enough data" on tiny logs.

use crate::common;

use common::{run, Shape};
use sharpen_analysis::predictions::{check_all, Check, Verdict};
use sharpen_analysis::runs::{group, Run};
use sharpen_toy::Regime;

fn checks(runs: &[Run]) -> Vec<Check> {
    check_all(&group(runs))
}

fn verdict(cs: &[Check], claim_part: &str) -> Verdict {
    let c: Vec<&Check> = cs.iter().filter(|c| c.claim.contains(claim_part)).collect();
    assert_eq!(c.len(), 1, "claim '{claim_part}' in {cs:#?}");
    c[0].verdict
}

fn sharpening_shape() -> Shape {
    Shape { acc: (0.5, 0.46), len: (300.0, 120.0), ref_lp: (-200.0, -60.0), clip_rate: 0.9, ..Shape::default() }
}

#[test]
fn p1_holds_on_sharpening_like_logs_with_one_run_and_with_seeds() {
    for seeds in [1u64, 4] {
        let runs: Vec<Run> = (0..seeds).map(|s| run(Regime::sharpening(), s, 120, sharpening_shape(), false)).collect();
        let cs = checks(&runs);
        assert_eq!(cs.len(), 4, "{cs:#?}");
        assert!(cs.iter().all(|c| c.prediction == "P1" && c.verdict == Verdict::Holds), "{cs:#?}");
        assert!(cs.iter().all(|c| c.runs == seeds as usize));
    }
}

#[test]
fn p1_fails_when_length_grows_and_accuracy_jumps() {
    let shape = Shape { len: (100.0, 300.0), acc: (0.3, 0.7), clip_rate: 0.05, ..sharpening_shape() };
    let cs = checks(&[run(Regime::sharpening(), 0, 120, shape, false)]);
    assert_eq!(verdict(&cs, "length falls"), Verdict::Fails);
    assert_eq!(verdict(&cs, "accuracy gain"), Verdict::Fails);
    assert_eq!(verdict(&cs, "clipped"), Verdict::Fails);
    assert_eq!(verdict(&cs, "log-likelihood"), Verdict::Holds);
}

#[test]
fn p2_task_reward_rises_and_is_stable_or_collapses() {
    let rising = Shape { acc: (0.4, 0.7), ..Shape::default() };
    let cs = checks(&[run(Regime::task_reward(), 0, 200, rising, false)]);
    assert_eq!(verdict(&cs, "validation accuracy rises"), Verdict::Holds);
    assert_eq!(verdict(&cs, "stable"), Verdict::Holds);
    let falling = Shape { acc: (0.7, 0.1), ..Shape::default() };
    let cs = checks(&[run(Regime::task_reward(), 0, 200, falling, false)]);
    assert_eq!(verdict(&cs, "validation accuracy rises"), Verdict::Fails);
    assert_eq!(verdict(&cs, "stable"), Verdict::Fails);
}

#[test]
fn p3_p4_p6() {
    let t = Shape { len: (300.0, 150.0), entropy: (0.6, 0.3), pass16: (0.9, 0.7), ..Shape::default() };
    let cs = checks(&[run(Regime::tempered(2.0).unwrap(), 0, 100, t, false)]);
    assert_eq!(cs.len(), 3);
    assert!(cs.iter().all(|c| c.prediction == "P3" && c.verdict == Verdict::Holds), "{cs:#?}");
    // α < 1 is not covered by P3.
    assert!(checks(&[run(Regime::tempered(0.5).unwrap(), 0, 100, t, false)]).is_empty());

    let tilted = Shape { acc: (0.4, 0.6), ..Shape::default() };
    let cs = checks(&[run(Regime::tilted(2.0, 100.0).unwrap(), 0, 100, tilted, false)]);
    assert_eq!(verdict(&cs, "accuracy rises"), Verdict::Holds);

    let cs = checks(&[run(Regime::control(), 0, 100, Shape { kl: (0.0, 0.01), ..Shape::default() }, false)]);
    assert_eq!(verdict(&cs, "KL"), Verdict::Holds);
    let cs = checks(&[run(Regime::control(), 0, 100, Shape { kl: (0.0, 2.0), ..Shape::default() }, false)]);
    assert_eq!(verdict(&cs, "KL"), Verdict::Fails);
}

#[test]
fn p5_fixed_length_runs_are_grouped_apart() {
    let shape = Shape { len: (512.0, 512.0), noise: 0.005, ..sharpening_shape() };
    let runs = vec![
        run(Regime::sharpening(), 0, 100, shape, true),
        run(Regime::sharpening(), 1, 100, sharpening_shape(), false),
    ];
    let groups = group(&runs);
    assert_eq!(groups.len(), 2);
    let cs = check_all(&groups);
    let p5: Vec<&Check> = cs.iter().filter(|c| c.prediction == "P5").collect();
    assert_eq!(p5.len(), 2, "{cs:#?}");
    assert!(p5.iter().all(|c| c.verdict == Verdict::Holds && c.group.ends_with("fixed-length")), "{p5:#?}");
}

#[test]
fn accuracy_falls_back_to_validation_then_batch_reward() {
    let shape = Shape { acc: (0.3, 0.6), ..Shape::default() };
    let mut r = run(Regime::task_reward(), 0, 200, shape, false);
    r.log.evals.clear();
    let cs = checks(std::slice::from_ref(&r));
    let c = cs.iter().find(|c| c.claim.contains("rises")).unwrap();
    assert!(c.evidence.starts_with("validation accuracy"), "{c:?}");
    assert_eq!(c.verdict, Verdict::Holds);
    r.log.steps.iter_mut().for_each(|s| s.val_accuracy = None);
    let cs = checks(&[r]);
    let c = cs.iter().find(|c| c.claim.contains("rises")).unwrap();
    assert!(c.evidence.starts_with("training-batch accuracy"), "{c:?}");
    assert_eq!(c.verdict, Verdict::Holds);
}

#[test]
fn tiny_or_flat_logs_give_not_enough_data() {
    let cs = checks(&[run(Regime::sharpening(), 0, 3, sharpening_shape(), false)]);
    assert_eq!(verdict(&cs, "length falls"), Verdict::NotEnoughData);
    assert_eq!(verdict(&cs, "log-likelihood"), Verdict::NotEnoughData);
    // Flat length with noise: the slope's interval straddles zero.
    let flat = Shape { noise: 0.2, ..Shape::default() };
    let cs = checks(&[run(Regime::tempered(2.0).unwrap(), 0, 100, flat, false)]);
    assert_eq!(verdict(&cs, "mean length falls"), Verdict::NotEnoughData);
}

#[test]
fn checks_are_deterministic() {
    let runs: Vec<Run> = (0..2).map(|s| run(Regime::sharpening(), s, 80, sharpening_shape(), false)).collect();
    assert_eq!(checks(&runs), checks(&runs));
}

#[test]
fn missing_evaluations_are_named_in_the_evidence() {
    let t = Shape { len: (300.0, 150.0), entropy: (0.6, 0.3), ..Shape::default() };
    let mut r = run(Regime::tempered(2.0).unwrap(), 0, 100, t, false);
    r.log.evals.clear();
    let cs = checks(&[r]);
    let c = cs.iter().find(|c| c.claim.contains("pass@k")).unwrap();
    assert_eq!(c.verdict, Verdict::NotEnoughData);
    assert!(c.evidence.contains("evaluation records"), "{c:?}");
}

#[test]
fn p7_self_rewards_move_what_they_reward() {
    let sc = Shape { reward: Some("self_certainty"), self_certainty: Some((1.0, 1.6)), ..Shape::default() };
    let ne = Shape { reward: Some("neg_entropy"), token_entropy: Some((2.0, 1.2)), ..Shape::default() };
    let maj = Shape {
        reward: Some("majority"),
        acc: (0.40, 0.52),
        majority: Some((0.5, 0.9)),
        majority_acc: Some((0.55, 0.55)),
        ..Shape::default()
    };
    let task = Shape { acc: (0.4, 0.7), ..Shape::default() };
    let runs = [
        run(Regime::task_reward(), 0, 150, sc, false),
        run(Regime::task_reward(), 0, 150, ne, false),
        run(Regime::task_reward(), 0, 150, maj, false),
        run(Regime::task_reward(), 0, 150, task, false),
    ];
    let groups = group(&runs);
    assert_eq!(groups.len(), 4, "each reward source is its own group");
    let cs = check_all(&groups);
    assert_eq!(verdict(&cs, "self-certainty rises"), Verdict::Holds);
    assert_eq!(verdict(&cs, "entropy falls"), Verdict::Holds);
    assert_eq!(verdict(&cs, "agreement with the Group's majority rises"), Verdict::Holds);
    assert_eq!(verdict(&cs, "not above it"), Verdict::Holds);
    // The self-reward groups carry only P7; the task-reward group keeps P2.
    assert_eq!(cs.iter().filter(|c| c.prediction == "P7").count(), 4);
    assert!(cs.iter().filter(|c| c.prediction == "P7").all(|c| c.group.contains(" reward=")), "{cs:#?}");
    assert_eq!(verdict(&cs, "validation accuracy rises"), Verdict::Holds);

    // The opposite movements fail; accuracy well above the base model's majority vote fails.
    let sc = Shape { self_certainty: Some((1.6, 1.0)), ..sc };
    let ne = Shape { token_entropy: Some((1.2, 2.0)), ..ne };
    let maj = Shape { acc: (0.40, 0.80), majority: Some((0.9, 0.5)), ..maj };
    let cs = check_all(&group(&[
        run(Regime::task_reward(), 0, 150, sc, false),
        run(Regime::task_reward(), 0, 150, ne, false),
        run(Regime::task_reward(), 0, 150, maj, false),
    ]));
    assert_eq!(verdict(&cs, "self-certainty rises"), Verdict::Fails);
    assert_eq!(verdict(&cs, "entropy falls"), Verdict::Fails);
    assert_eq!(verdict(&cs, "majority rises"), Verdict::Fails);
    assert_eq!(verdict(&cs, "not above it"), Verdict::Fails);

    // Logs without the quantities (a run from before they were logged): not enough data.
    let bare = Shape { reward: Some("self_certainty"), ..Shape::default() };
    let cs = checks(&[run(Regime::task_reward(), 0, 150, bare, false)]);
    assert_eq!(verdict(&cs, "self-certainty rises"), Verdict::NotEnoughData);
}

#[test]
fn seeds_that_split_between_two_outcomes_leave_an_evaluation_claim_undecided() {
    // Four tempered α = 2 runs: two keep pass@16, two collapse. Each evaluation is precise (500
    // problems), so only the spread between seeds can make the claim undecided.
    let shape = |end: f64| Shape {
        len: (300.0, 150.0),
        entropy: (0.6, 0.3),
        pass16: (0.9, end),
        acc: (0.3, end / 3.0),
        ..Shape::default()
    };
    let tempered = Regime::tempered(2.0).unwrap();
    let split: Vec<Run> = [0.93, 0.05, 0.92, 0.04]
        .iter()
        .enumerate()
        .map(|(s, &e)| run(tempered, s as u64, 100, shape(e), false))
        .collect();
    let c = checks(&split).into_iter().find(|c| c.claim.contains("pass@k")).unwrap();
    assert_eq!(c.verdict, Verdict::NotEnoughData, "{c:?}");
    let ci = c.ci.unwrap();
    assert!(ci.lo < -0.8 && ci.hi > 0.0, "the interval spans the seeds' outcomes: {c:?}");

    let all: Vec<Run> = [0.05, 0.1, 0.08, 0.04]
        .iter()
        .enumerate()
        .map(|(s, &e)| run(tempered, s as u64, 100, shape(e), false))
        .collect();
    assert_eq!(verdict(&checks(&all), "pass@k"), Verdict::Holds);

    // The same for an accuracy gain: the task reward helps two seeds and hurts two.
    let task = |end: f64| Shape { acc: (0.4, end), ..Shape::default() };
    let split: Vec<Run> = [0.9, 0.1, 0.85, 0.15]
        .iter()
        .enumerate()
        .map(|(s, &e)| run(Regime::task_reward(), s as u64, 100, task(e), false))
        .collect();
    assert_eq!(verdict(&checks(&split), "validation accuracy rises"), Verdict::NotEnoughData);
    // With one or two runs only the evaluation's error counts, as before.
    let one = [run(Regime::task_reward(), 0, 100, task(0.9), false)];
    let c = checks(&one).into_iter().find(|c| c.claim.contains("validation accuracy rises")).unwrap();
    assert_eq!(c.verdict, Verdict::Holds);
    let half = (c.ci.unwrap().hi - c.ci.unwrap().lo) / 2.0;
    assert!(half < 0.1, "{c:?}");
}
