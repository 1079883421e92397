//! The state-space solver against the prefix-tree DP (the reference) on random small state
//! models read as tree families: every quantity `sharpen toy tree` reports, to 1e-9.
//! Then the named families in both forms, and the acceptance sizes of issue 14.

use crate::common;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sharpen_toy::statespace::dp::{log10_prefixes, power_policy, temperature_policy, StatePolicy};
use sharpen_toy::statespace::{Group, Law, Solver, State, StateModel};
use sharpen_toy::tree::dp::{summarize, Summary, Target};
use sharpen_toy::tree::power::power_conditionals;
use sharpen_toy::tree::report::{analyze, Method, TreeQuery};
use sharpen_toy::tree::temperature::temperature_conditionals;
use sharpen_toy::tree::theory::{alpha_star, alpha_star_dp, geometric_length_pmf, power_vs_temperature, slope_at_one};
use sharpen_toy::tree::{FamilyOptions, FamilySpec, Policy, Tree};
use sharpen_toy::{Mode, Normalization, Regime};

const TOL: f64 = 1e-9;

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= TOL * b.abs().max(1.0)
}

/// A random law over `vocab` tokens: contiguous groups (some missing), each with one
/// probability and a random next state; EOS sometimes missing.
fn random_law(rng: &mut ChaCha8Rng, vocab: usize, states: usize, holes: f64, spread: f64) -> Law {
    let mut raw: Vec<(u32, u32, f64, usize)> = Vec::new();
    let mut t = 0;
    while t < vocab {
        let count = rng.gen_range(1..=vocab - t);
        if rng.gen::<f64>() >= holes {
            raw.push((t as u32, count as u32, (spread * rng.gen::<f64>()).exp(), rng.gen_range(0..states)));
        }
        t += count;
    }
    let mut stop = if rng.gen::<f64>() < holes { 0.0 } else { (spread * rng.gen::<f64>()).exp() };
    if raw.is_empty() && stop == 0.0 {
        stop = 1.0;
    }
    let total = stop + raw.iter().map(|g| g.1 as f64 * g.2).sum::<f64>();
    Law {
        log_stop: (stop / total).ln(),
        groups: raw
            .into_iter()
            .map(|(first, count, w, next)| Group { first, count, log_p: (w / total).ln(), next })
            .collect(),
    }
}

#[derive(Debug, Clone)]
struct Spec {
    seed: u64,
    states: usize,
    vocab: usize,
    max_len: usize,
    holes: f64,
    spread: f64,
    graded: bool,
    fixed: bool,
}

fn random_model(p: &Spec) -> StateModel {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let states = (0..p.states)
        .map(|k| {
            let mut pieces = vec![(0, random_law(&mut rng, p.vocab, p.states, p.holes, p.spread))];
            // Sometimes the law changes with the position.
            if p.max_len > 1 && rng.gen::<bool>() {
                let from = rng.gen_range(1..p.max_len);
                pieces.push((from, random_law(&mut rng, p.vocab, p.states, p.holes, p.spread)));
            }
            let answer = ((b'a' + rng.gen_range(0..3u8)) as char).to_string();
            let reward = if answer != "a" {
                0.0
            } else if p.graded {
                rng.gen::<f64>()
            } else {
                1.0
            };
            State { name: format!("s{k}"), answer, reward, pieces }
        })
        .collect();
    let m = StateModel::new(format!("random {p:?}"), p.vocab, p.max_len, 0, states, 0).expect("valid random model");
    if p.fixed {
        m.fixed_length()
    } else {
        m
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<u64>(),
        1usize..=4,
        1usize..=4,
        1usize..=6,
        prop_oneof![Just(0.0), 0.0f64..0.5],
        0.5f64..6.0,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(seed, states, vocab, max_len, holes, spread, graded, fixed)| Spec {
            seed,
            states,
            vocab,
            max_len,
            holes,
            spread,
            graded,
            fixed,
        })
}

fn any_regime() -> impl Strategy<Value = Regime> {
    prop_oneof![common::regime(Mode::Sampling), common::regime(Mode::Optimization), common::regime(Mode::None)]
}

fn assert_summary(what: &str, ss: &Summary, tree: &Summary) -> Result<(), TestCaseError> {
    prop_assert_eq!(ss.length_pmf.len(), tree.length_pmf.len());
    for (l, (a, b)) in ss.length_pmf.iter().zip(&tree.length_pmf).enumerate() {
        prop_assert!(close(*a, *b), "{what}: P(L={l}) state space {a} tree {b}");
    }
    prop_assert!(close(ss.mean_length, tree.mean_length), "{what}: mean {} vs {}", ss.mean_length, tree.mean_length);
    prop_assert!(close(ss.accuracy, tree.accuracy), "{what}: accuracy {} vs {}", ss.accuracy, tree.accuracy);
    prop_assert!(close(ss.entropy, tree.entropy), "{what}: entropy {} vs {}", ss.entropy, tree.entropy);
    prop_assert_eq!(ss.answers.keys().collect::<Vec<_>>(), tree.answers.keys().collect::<Vec<_>>());
    for (k, v) in &tree.answers {
        prop_assert!(close(ss.answers[k], *v), "{what}: answer {k} {} vs {v}", ss.answers[k]);
    }
    Ok(())
}

/// Every node's token conditional (and stop) of a tree policy against the state policy.
fn assert_policy(m: &StateModel, tree: &Tree, reference: &Policy, p: &StatePolicy) -> Result<(), TestCaseError> {
    for n in 0..tree.len() {
        let seq = tree.sequence(n);
        let s = m.walk(&seq).expect("the tree holds reachable prefixes only");
        let pos = seq.len();
        let (a, b) = (p.log_stop(m, pos, s).exp(), reference.log_stop[n].exp());
        prop_assert!(close(a, b), "stop after {seq:?}: {a} vs {b}");
        for c in tree.children(n) {
            let (a, b) = (p.log_token(m, pos, s, tree.token(c)).exp(), reference.log_edge[c].exp());
            prop_assert!(close(a, b), "token {} after {seq:?}: {a} vs {b}", tree.token(c));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The target of every regime: length law, mean length, accuracy, entropy, answers.
    #[test]
    fn regime_targets(p in spec(), regime in any_regime()) {
        let m = random_model(&p);
        let tree = Tree::build(&m, 1_000_000).expect("small tree");
        let reference = summarize(&tree, &Target::new(&tree, &regime).log_q());
        let ss = Solver::new(&m).solve(&regime);
        assert_summary(&regime.name(), &ss, &reference)?;
        let total: f64 = ss.length_pmf.iter().sum();
        prop_assert!((total - 1.0).abs() < 1e-12);
        prop_assert!((log10_prefixes(&m) - (tree.len() as f64).log10()).abs() < 1e-12);
    }

    /// The exact power conditionals and token temperature, node by node; their sequence laws,
    /// the KL both ways and the Z_α spread; the slope at α = 1 and α* read off the length law.
    #[test]
    fn power_temperature_and_slope(p in spec(), alpha in prop_oneof![0.0f64..5.0, Just(1.0), Just(0.0)]) {
        let m = random_model(&p);
        let tree = Tree::build(&m, 1_000_000).expect("small tree");
        assert_policy(&m, &tree, &power_conditionals(&tree, alpha), &power_policy(&m, alpha))?;
        assert_policy(&m, &tree, &temperature_conditionals(&tree, alpha), &temperature_policy(&m, alpha))?;
        let solver = Solver::new(&m);
        let (a, b) = (solver.power_vs_temperature(alpha), power_vs_temperature(&tree, alpha));
        assert_summary("power", &a.power, &b.power)?;
        assert_summary("temperature", &a.temperature, &b.temperature)?;
        prop_assert!((a.kl_power_temperature - b.kl_power_temperature).abs() < TOL, "{} vs {}", a.kl_power_temperature, b.kl_power_temperature);
        prop_assert!((a.kl_temperature_power - b.kl_temperature_power).abs() < TOL);
        prop_assert!((a.z_spread - b.z_spread).abs() < TOL, "spread {} vs {}", a.z_spread, b.z_spread);
        let (a, b) = (solver.slope_at_one(), slope_at_one(&tree));
        prop_assert!(close(a.slope, b.slope), "slope {} vs {}", a.slope, b.slope);
        prop_assert!(close(a.var_length, b.var_length));
        prop_assert!(close(a.surprisal_per_token, b.surprisal_per_token), "h {} vs {}", a.surprisal_per_token, b.surprisal_per_token);
        match (solver.alpha_star_dp(), alpha_star_dp(&tree)) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-9, "α* {x} vs {y}"),
            (x, y) => prop_assert_eq!(x, y),
        }
    }

    /// The named families: `sharpen toy tree` gives the same report from both solvers.
    #[test]
    fn named_families_agree(
        name in prop_oneof![Just("geometric"), Just("reasoning"), Just("loop"), Just("fixed-length"), Just("fixed-length:geometric"), Just("fixed-length:loop")],
        vocab in 1usize..=4,
        max_len in 2usize..=6,
        stop in 0.05f64..0.95,
        zipf in prop_oneof![Just(None), (0.0f64..2.0).prop_map(Some)],
        mode in prop_oneof![Just(Mode::Sampling), Just(Mode::Optimization)],
        beta_inv in common::beta_inv(),
        normalization in common::normalization(),
    ) {
        let vocab = if name.contains("geometric") { vocab } else { vocab + 2 };
        let o = FamilyOptions { vocab: Some(vocab), max_len: Some(max_len), stop: Some(stop), zipf, ..Default::default() };
        let spec = FamilySpec::parse(name, &o).unwrap();
        let q = |method| TreeQuery { alphas: vec![0.0, 0.5, 1.0, 2.5], mode, beta_inv, normalization, max_nodes: 1_000_000, method };
        let (t, s) = (analyze(&spec, &q(Method::Tree)).unwrap(), analyze(&spec, &q(Method::StateSpace)).unwrap());
        prop_assert_eq!(&t.family, &s.family);
        prop_assert_eq!(t.prefixes, s.prefixes);
        prop_assert_eq!(t.alpha_star, s.alpha_star);
        match (t.alpha_star_dp, s.alpha_star_dp) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-9),
            (x, y) => prop_assert_eq!(x, y),
        }
        assert_summary("base", &s.base, &t.base)?;
        prop_assert!(close(s.slope_at_one.slope, t.slope_at_one.slope));
        for (a, b) in s.regimes.iter().zip(&t.regimes) {
            let as_summary = |r: &sharpen_toy::tree::report::RegimeResult| Summary {
                length_pmf: r.length_pmf.clone(), mean_length: r.mean_length, accuracy: r.accuracy, entropy: r.entropy, answers: r.answers.clone(),
            };
            assert_summary(&format!("α={}", a.alpha), &as_summary(a), &as_summary(b))?;
        }
        for (a, b) in s.temperature.iter().zip(&t.temperature) {
            prop_assert!((a.kl_power_temperature - b.kl_power_temperature).abs() < TOL);
            prop_assert!((a.z_spread - b.z_spread).abs() < TOL);
            assert_summary("power", &a.power, &b.power)?;
        }
    }
}

/// The capped geometric's length law at α = 1: P(L=ℓ) = s(1−s)^ℓ below the cap, (1−s)^cap at it.
fn capped_geometric_mean(stop: f64, cap: usize) -> f64 {
    let keep = 1.0 - stop;
    let below: f64 = (0..cap).map(|l| l as f64 * stop * keep.powi(l as i32)).sum();
    below + cap as f64 * keep.powi(cap as i32)
}

/// Issue 14's acceptance: the geometric family at an LLM's vocabulary and length.
#[test]
fn geometric_at_llm_scale() {
    for (vocab, cap) in [(50_000, 2_048), (151_936, 4_096)] {
        let o = FamilyOptions { vocab: Some(vocab), max_len: Some(cap), stop: Some(0.3), ..Default::default() };
        let spec = FamilySpec::parse("geometric", &o).unwrap();
        let g = spec.geometric().unwrap().clone();
        let star = alpha_star(&g);
        let closed = (vocab as f64).ln() / ((vocab as f64).ln() - 0.7f64.ln());
        assert!((star - closed).abs() < 1e-12);
        let below = star - 0.01;
        let q = TreeQuery {
            alphas: vec![below, 1.0, 2.0],
            mode: Mode::Sampling,
            beta_inv: 0.0,
            normalization: Normalization::Sum,
            max_nodes: 1_000_000,
            method: Method::Auto,
        };
        let r = analyze(&spec, &q).unwrap();
        assert_eq!(r.solver, Method::StateSpace);
        assert!(r.log10_prefixes > 1000.0, "{}", r.log10_prefixes);
        let dp = r.alpha_star_dp.expect("a crossing in (0, 1)");
        assert!((dp - star).abs() < 1e-9, "α* from the DP {dp} closed form {star}");
        let base_mean = capped_geometric_mean(0.3, cap);
        assert!((r.base.mean_length - base_mean).abs() < 1e-9, "{} vs {base_mean}", r.base.mean_length);
        assert!((r.regimes[1].mean_length - base_mean).abs() < 1e-9);
        let pmf = &r.regimes[0].length_pmf;
        assert!((0..cap).all(|l| pmf[cap] > pmf[l]), "below α* the cap is the likeliest length");
        assert!(
            pmf[cap] > 0.1 && r.regimes[0].mean_length > 0.9 * cap as f64,
            "{} {}",
            pmf[cap],
            r.regimes[0].mean_length
        );
        // Every length law against the closed form of the geometric family.
        for x in &r.regimes {
            let closed = geometric_length_pmf(&g, x.alpha);
            assert!(x.length_pmf.iter().zip(&closed).all(|(a, b)| (a - b).abs() < 1e-9), "α={}", x.alpha);
        }
        assert!(r.regimes[2].mean_length < 1.0, "collapse at α = 2: {}", r.regimes[2].mean_length);
        for s in r.regimes.iter().map(|x| &x.length_pmf).chain([&r.base.length_pmf]) {
            assert_eq!(s.len(), cap + 1);
            assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        for t in &r.temperature {
            assert!((t.power.length_pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!(
                (t.power.mean_length - r.regimes.iter().find(|x| x.alpha == t.alpha).unwrap().mean_length).abs() < 1e-6
            );
        }
    }
}

/// Calibration from an exact profile: a constant hazard s and token entropy log V fit the
/// uniform geometric family exactly, so the predictions are its closed forms.
#[test]
fn calibration_recovers_the_geometric_family() {
    use sharpen_toy::statespace::calibrate::{fit, predict, Profile};
    let (vocab, cap, s) = (50_000usize, 2_048usize, 0.3);
    let p = Profile {
        max_len: cap,
        at_risk: vec![1; cap],
        stops: vec![0; cap],
        hazard: vec![s; cap],
        entropy: vec![(vocab as f64).ln(); cap],
        tail_from: cap,
        tail_token_log_u: vec![-(vocab as f64).ln(); 10],
    };
    let m = fit(&p, vocab).unwrap();
    let alphas = [0.5, 1.0, 2.0];
    let pred = predict(&m, &p, &alphas).unwrap();
    let g = sharpen_toy::tree::Geometric::new(vocab, s, None, cap).unwrap();
    let star = alpha_star(&g);
    assert!((pred.alpha_star.unwrap() - star).abs() < 1e-9, "{:?} vs {star}", pred.alpha_star);
    assert!((pred.alpha_star_sampled.unwrap() - star).abs() < 1e-9, "{:?}", pred.alpha_star_sampled);
    let half = pred.alpha_half_cap.unwrap();
    // Distant cap: P(L = cap) → (c − 1)/(c − 1 + s^α), so half the mass sits at the cap where
    // c(α) = 1 + s^α, just below α*.
    let log_c = |a: f64| a * (1.0 - s).ln() + (1.0 - a) * (vocab as f64).ln();
    assert!(half < star && (log_c(half).exp() - 1.0 - s.powf(half)).abs() < 1e-6, "half the mass at the cap at {half}");
    assert!(pred.cap_mass[0] > 0.99 && pred.cap_mass[2] < 1e-12);
    for (a, pmf) in alphas.iter().zip(&pred.length_pmf) {
        let closed = geometric_length_pmf(&g, *a);
        assert!(pmf.iter().zip(&closed).all(|(x, y)| (x - y).abs() < 1e-9), "α={a}");
    }
    assert!((pred.mean_length[1] - capped_geometric_mean(s, cap)).abs() < 1e-9);
}

/// Calibration from samples of a geometric model (uniform over V tokens, stop s): the estimated
/// hazard and entropy, and the predicted α*, close to the truth within sampling error.
#[test]
fn calibration_from_samples() {
    use sharpen_toy::statespace::calibrate::{fit, predict, profile, Sample};
    let (vocab, cap, s, n) = (1_000usize, 256usize, 0.1, 20_000);
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let lp = ((1.0 - s) / vocab as f64).ln();
    let samples: Vec<Sample> = (0..n)
        .map(|_| {
            let mut len = 0;
            while len < cap && rng.gen::<f64>() >= s {
                len += 1;
            }
            Sample { length: len, eos: len < cap, token_logprobs: vec![lp; len] }
        })
        .collect();
    let p = profile(&samples, cap, 200).unwrap();
    assert!(
        (p.hazard[0] - s).abs() < 0.01 && (p.hazard[cap - 1] - s).abs() < 0.02,
        "{} {}",
        p.hazard[0],
        p.hazard[cap - 1]
    );
    assert!((p.entropy[0] - (vocab as f64).ln()).abs() < 0.02, "{}", p.entropy[0]);
    let m = fit(&p, vocab).unwrap();
    let pred = predict(&m, &p, &[1.0]).unwrap();
    let star = alpha_star(&sharpen_toy::tree::Geometric::new(vocab, s, None, cap).unwrap());
    assert!((pred.alpha_star.unwrap() - star).abs() < 0.005, "{:?} vs {star}", pred.alpha_star);
    assert!((pred.mean_length[0] - capped_geometric_mean(s, cap)).abs() < 0.3, "{}", pred.mean_length[0]);
    assert!((pred.alpha_star_sampled.unwrap() - star).abs() < 0.005, "{:?} vs {star}", pred.alpha_star_sampled);
    // Bad input is one error, not a panic.
    assert!(profile(&[], cap, 1).is_err());
    assert!(profile(&[Sample { length: 3, eos: true, token_logprobs: vec![0.0; 2] }], cap, 1).is_err());
}

/// Log space throughout: α up to 100 and β⁻¹ = 1e4, `sum` and `mean`, on random models and at
/// V = 152,000, L = 4096 (Zipf tokens): finite, normalised targets.
#[test]
fn large_alpha_has_no_nan() {
    let p = Spec { seed: 7, states: 3, vocab: 3, max_len: 6, holes: 0.0, spread: 30.0, graded: true, fixed: false };
    let big = sharpen_toy::statespace::from_spec(
        &FamilySpec::parse(
            "geometric",
            &FamilyOptions { vocab: Some(152_000), max_len: Some(4096), zipf: Some(1.0), ..Default::default() },
        )
        .unwrap(),
    )
    .unwrap();
    for m in [random_model(&p), big] {
        let solver = Solver::new(&m);
        for alpha in [0.0, 1e-3, 1.0, 10.0, 100.0] {
            let norms: &[Normalization] =
                if m.max_len > 100 { &[Normalization::Sum] } else { &[Normalization::Sum, Normalization::Mean] };
            for &norm in norms {
                for mode in [Mode::Sampling, Mode::Optimization] {
                    let s = solver.solve(&Regime::new(mode, alpha, 1e4, norm).unwrap());
                    let total: f64 = s.length_pmf.iter().sum();
                    assert!((total - 1.0).abs() < 1e-10, "α={alpha} {norm:?} {mode:?}: Σ = {total}");
                    assert!(s.entropy.is_finite() && s.mean_length.is_finite() && s.accuracy.is_finite());
                }
            }
            let c = solver.power_vs_temperature(alpha);
            assert!(c.kl_power_temperature.is_finite() && c.kl_temperature_power.is_finite() && c.z_spread.is_finite());
            let total: f64 = c.power.length_pmf.iter().sum();
            assert!((total - 1.0).abs() < 1e-9, "α={alpha} cap {}: Σ = {total}", m.max_len);
        }
    }
}

/// Invalid models are one error each, never a panic.
#[test]
fn invalid_models_are_rejected() {
    let law = |groups: Vec<Group>, stop: f64| Law { log_stop: stop.ln(), groups };
    let state = |l: Law| State { name: "s".into(), answer: "a".into(), reward: 1.0, pieces: vec![(0, l)] };
    let g = |first, count, p: f64, next| Group { first, count, log_p: p.ln(), next };
    let try_model = |l: Law| StateModel::new("m".into(), 4, 3, 0, vec![state(l)], 0);
    assert!(try_model(law(vec![g(0, 2, 0.25, 0), g(2, 2, 0.25, 0)], 0.0)).is_ok());
    assert!(try_model(law(vec![g(0, 2, 0.25, 0), g(1, 2, 0.25, 0)], 0.0)).is_err(), "overlap");
    assert!(try_model(law(vec![g(0, 2, 0.25, 0)], 0.4)).is_err(), "sum 0.9");
    assert!(try_model(law(vec![g(0, 2, 0.25, 1), g(2, 2, 0.25, 0)], 0.0)).is_err(), "no state 1");
    assert!(try_model(law(vec![g(3, 2, 0.25, 0), g(0, 2, 0.25, 0)], 0.0)).is_err(), "outside the vocabulary");
    let mut bad_reward = state(law(vec![], 1.0));
    bad_reward.reward = 2.0;
    assert!(StateModel::new("m".into(), 4, 3, 0, vec![bad_reward], 0).is_err());
}

/// Where the entropy fit fails: Zipf tokens. π^α weighs Σ u^α, which the Shannon entropy does
/// not fix; the entropy-matched fit misses α* by more than the sampled Σ u^α estimate does.
#[test]
fn calibration_entropy_fit_is_biased_on_zipf_tokens() {
    use sharpen_toy::statespace::calibrate::{fit, predict, profile, Sample};
    let (vocab, cap, s, n) = (1_000usize, 128usize, 0.1, 20_000);
    let g = sharpen_toy::tree::Geometric::new(vocab, s, Some(1.1), cap).unwrap();
    let u = g.token_weights().to_vec();
    let cdf: Vec<f64> = u
        .iter()
        .scan(0.0, |acc, x| {
            *acc += x;
            Some(*acc)
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(1414);
    let samples: Vec<Sample> = (0..n)
        .map(|_| {
            let mut lps = Vec::new();
            while lps.len() < cap && rng.gen::<f64>() >= s {
                let x = rng.gen::<f64>();
                let v = cdf.partition_point(|&c| c < x).min(vocab - 1);
                lps.push(((1.0 - s) * u[v]).ln());
            }
            Sample { length: lps.len(), eos: lps.len() < cap, token_logprobs: lps }
        })
        .collect();
    let p = profile(&samples, cap, 200).unwrap();
    let pred = predict(&fit(&p, vocab).unwrap(), &p, &[1.0]).unwrap();
    let star = alpha_star(&g);
    let (fit_err, sampled_err) =
        ((pred.alpha_star.unwrap() - star).abs(), (pred.alpha_star_sampled.unwrap() - star).abs());
    eprintln!(
        "Zipf 1.1, V = {vocab}: α* {star:.4}, entropy fit {:.4}, sampled Σu^α {:.4}",
        pred.alpha_star.unwrap(),
        pred.alpha_star_sampled.unwrap()
    );
    assert!(sampled_err < 0.02, "sampled Σu^α: {:?} vs {star}", pred.alpha_star_sampled);
    assert!(
        fit_err > 2.0 * sampled_err,
        "entropy fit {:?}, sampled {:?}, truth {star}",
        pred.alpha_star,
        pred.alpha_star_sampled
    );
}
