//! How often sharpening lowers accuracy over random problems (T2): the sign of
//! dE[r]/dα at α = 1, which is Cov_{π_ref}(r, log π_ref), and how often the sharpening optimum
//! (π_ref's mode) is wrong, binned by P_ref(correct). Two seeded random families of 16 responses:
//! log-likelihoods independent of correctness, and correct responses taking longer paths.

use super::{Axis, Figure, Legend, Panel, Series, Style};
use crate::stats::wilson;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sharpen_toy::{theory, Bandit, Regime};

pub const NAME: &str = "sharpening-lowers-accuracy-random-problems";
/// Problems drawn per family.
pub const PROBLEMS: usize = 20_000;
pub const SEED: u64 = 2604;
const RESPONSES: usize = 16;
const BINS: usize = 10;
/// Nats per token of the reference model in the "longer correct paths" family.
const NATS_PER_TOKEN: f64 = 0.3;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 − u keeps the logarithm finite.
    let (u, v): (f64, f64) = (rng.gen(), rng.gen());
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// One random problem: each response is correct with a problem-level probability; its
/// log-weight is Gaussian noise, minus NATS_PER_TOKEN·length when `longer_correct` (correct
/// chains of 10–40 tokens, wrong answers of 2–20).
fn problem(rng: &mut ChaCha8Rng, longer_correct: bool) -> Bandit {
    let p_correct: f64 = rng.gen();
    let mut logw = Vec::with_capacity(RESPONSES);
    let mut rewards = Vec::with_capacity(RESPONSES);
    let mut lengths = Vec::with_capacity(RESPONSES);
    for _ in 0..RESPONSES {
        let correct = rng.gen::<f64>() < p_correct;
        let len = if correct { rng.gen_range(10..=40) } else { rng.gen_range(2..=20) };
        let noise = 1.5 * normal(rng);
        logw.push(if longer_correct { noise - NATS_PER_TOKEN * len as f64 } else { noise });
        rewards.push(if correct { 1.0 } else { 0.0 });
        lengths.push(len);
    }
    let answers: Vec<String> = rewards.iter().map(|&r| if r > 0.0 { "right".into() } else { "wrong".into() }).collect();
    Bandit::from_log_weights(&logw, &rewards, &lengths, &answers).expect("finite weights")
}

struct Tally {
    n: [usize; BINS],
    lowers: [usize; BINS],
    mode_wrong: [usize; BINS],
}

fn tally(longer_correct: bool, seed: u64) -> Tally {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = Tally { n: [0; BINS], lowers: [0; BINS], mode_wrong: [0; BINS] };
    for _ in 0..PROBLEMS {
        let b = problem(&mut rng, longer_correct);
        let p = b.expected_reward(&b.base());
        let bin = ((p * BINS as f64) as usize).min(BINS - 1);
        t.n[bin] += 1;
        t.lowers[bin] += usize::from(theory::tempered_accuracy_slope(&b, 1.0) < 0.0);
        t.mode_wrong[bin] += usize::from(b.expected_reward(&b.target(&Regime::sharpening())) < 0.5);
    }
    t
}

fn series(label: &str, color: usize, hits: &[usize; BINS], n: &[usize; BINS]) -> Series {
    let pts = (0..BINS).filter(|&i| n[i] > 0).map(|i| {
        let ci = wilson(hits[i], n[i]).expect("n > 0");
        ((i as f64 + 0.5) / BINS as f64, hits[i] as f64 / n[i] as f64, ci.lo, ci.hi)
    });
    let total: usize = hits.iter().sum();
    let all: usize = n.iter().sum();
    Series::new(format!("{label} ({:.0}% overall)", 100.0 * total as f64 / all as f64), Style::Band, color).band(pts)
}

pub fn figure() -> Figure {
    let fams = [("log π_ref independent of r", false, 0), ("correct answers take longer paths", true, 1)];
    let tallies: Vec<Tally> = fams.iter().enumerate().map(|(i, f)| tally(f.1, SEED + i as u64)).collect();
    let x = || Axis::new("P_ref(correct), binned").range(0.0, 1.0);
    let mut slope = Panel::new(
        "Sharpening locally lowers accuracy: dE[r]/dα < 0 at α = 1",
        x(),
        Axis::new("fraction of problems (95% CI)").range(0.0, 1.0),
    )
    .legend(Legend::UpperRight);
    let mut mode = Panel::new(
        "Sharpening's optimum (π_ref's mode) is wrong",
        x(),
        Axis::new("fraction of problems (95% CI)").range(0.0, 1.0),
    )
    .legend(Legend::UpperRight);
    for (f, t) in fams.iter().zip(&tallies) {
        slope.series.push(series(f.0, f.2, &t.lowers, &t.n));
        mode.series.push(series(f.0, f.2, &t.mode_wrong, &t.n));
    }
    let share = |t: &Tally| 100.0 * t.lowers.iter().sum::<usize>() as f64 / PROBLEMS as f64;
    Figure {
        name: NAME.into(),
        title: format!(
            "Sharpening locally lowers accuracy on {:.0}% of {PROBLEMS} random 16-response problems ({:.0}% when correct \
             answers take longer paths), often even where π_ref is mostly right",
            share(&tallies[0]),
            share(&tallies[1])
        ),
        panels: vec![slope, mode],
        columns: 2,
    }
}
