//! The MCMC power sampler against the exact π_ref^α on prefix trees (issue 15, first acceptance
//! bullet), and its Metropolis–Hastings kernel checked for stationarity exactly.

use sharpen_toy::mcmc::{log_acceptance, run_chain, sample_many, Autoregressive, PowerSampler, Proposal, Suffix};
use sharpen_toy::tree::dp::{prefix_log_probs, sequence_log_probs, summarize};
use sharpen_toy::tree::mcmc::{analyze_tree, draw_nodes, mcmc_law, PowerQuery};
use sharpen_toy::tree::power::power_conditionals;
use sharpen_toy::tree::temperature::temperature_conditionals;
use sharpen_toy::tree::{FamilyOptions, FamilySpec, Policy, Tree};

fn tree(name: &str, max_len: Option<usize>) -> Tree {
    let o = FamilyOptions { max_len, ..FamilyOptions::default() };
    FamilySpec::parse(name, &o).and_then(|s| s.build(1_000_000)).expect("valid family")
}

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The acceptance bullet: N = 20,000 chains of K = 64 moves on the default reasoning tree at
/// α = 2 and the default geometric tree at α = 1.5 match the exact π_ref^α — accuracy within
/// 0.02, length law within 0.03 in total variation — with either proposal.
#[test]
fn twenty_thousand_chains_of_64_steps_match_the_exact_power_target() {
    for (name, alpha) in [("reasoning", 2.0), ("geometric", 1.5)] {
        let t = tree(name, None);
        let exact = summarize(&t, &sequence_log_probs(&t, &power_conditionals(&t, alpha)));
        let temp = summarize(&t, &sequence_log_probs(&t, &temperature_conditionals(&t, alpha)));
        for proposal in [Proposal::Temperature, Proposal::Base] {
            let sampler = PowerSampler::new(alpha, proposal, 64, None).unwrap();
            let m = mcmc_law(&t, &sampler, 20_000, 15, threads());
            let acc_err = (m.law.accuracy - exact.accuracy).abs();
            eprintln!(
                "{name} α={alpha} {proposal:?}: accuracy {:.4} (exact {:.4}, error {acc_err:.4}), length TV {:.4}, \
                 TV {:.4}, acceptance {:.3}, {:.1} forward tokens/sample",
                m.law.accuracy, exact.accuracy, m.length_tv, m.tv, m.acceptance_rate, m.forward_tokens_per_sample
            );
            assert!(acc_err < 0.02, "{name} α={alpha} {proposal:?}: accuracy error {acc_err}");
            assert!(m.length_tv < 0.03, "{name} α={alpha} {proposal:?}: length TV {}", m.length_tv);
            assert!(m.acceptance_rate > 0.0 && m.acceptance_rate < 1.0);
            // The chain's cost: the initial draw plus one suffix per move, never fewer than K tokens.
            assert!(m.forward_tokens_per_sample >= 64.0, "{}", m.forward_tokens_per_sample);
        }
        // The check has power on these trees: token temperature, the sampler's own starting
        // law, is itself off the target by more than the tolerances.
        let temp_len_tv: f64 =
            0.5 * exact.length_pmf.iter().zip(&temp.length_pmf).map(|(a, b)| (a - b).abs()).sum::<f64>();
        assert!(
            (temp.accuracy - exact.accuracy).abs() > 0.02 || temp_len_tv > 0.03,
            "{name}: temperature is already within tolerance"
        );
    }
}

/// The paper's block-wise schedule (K moves after each block of B tokens) also ends on π_ref^α:
/// the last block's moves run over complete responses.
#[test]
fn the_block_schedule_matches_the_exact_power_target() {
    let t = tree("reasoning", None);
    let exact = summarize(&t, &sequence_log_probs(&t, &power_conditionals(&t, 2.0)));
    let sampler = PowerSampler::new(2.0, Proposal::Temperature, 64, Some(3)).unwrap();
    assert_eq!(sampler.block_ends(8), vec![3, 6, 8]);
    let m = mcmc_law(&t, &sampler, 20_000, 16, threads());
    assert!((m.law.accuracy - exact.accuracy).abs() < 0.02, "{}", m.law.accuracy);
    assert!(m.length_tv < 0.03, "{}", m.length_tv);
}

/// Terminal nodes under `n` (itself included).
fn terminals_under(t: &Tree, n: usize) -> Vec<usize> {
    let (mut stack, mut out) = (vec![n], Vec::new());
    while let Some(m) = stack.pop() {
        if t.is_terminal(m) {
            out.push(m);
        }
        stack.extend(t.children(m));
    }
    out
}

/// The ancestor of `n` at depth `d`.
fn ancestor(t: &Tree, mut n: usize, d: usize) -> usize {
    while t.depth(n) > d {
        n = t.parent(n);
    }
    n
}

/// One step of the sampler's kernel applied to π_ref^α exactly, on complete responses: for every
/// response y, position t (probability 1/(L+1)) and proposed y' under y_{<t}, the mass moved
/// with the acceptance `log_a`. Returns max over responses of |(π^α·T)(y) − π^α(y)|.
fn stationarity_error(t: &Tree, alpha: f64, q: &Policy, log_a: impl Fn(&Suffix, &Suffix) -> f64) -> f64 {
    let target = sequence_log_probs(t, &power_conditionals(t, alpha));
    let (pre_ref, pre_q) = (prefix_log_probs(t, t.base()), prefix_log_probs(t, q));
    // Σ over the decisions of y after its ancestor a of log p_ref and log q, stop included.
    let suffix = |a: usize, y: usize| Suffix {
        log_ref: pre_ref[y] - pre_ref[a] + t.base().log_stop[y],
        log_q: pre_q[y] - pre_q[a] + q.log_stop[y],
        positions: t.depth(y) + 1,
    };
    let mut flow = vec![0.0; t.len()];
    for y in (0..t.len()).filter(|&y| t.is_terminal(y)) {
        let n = (t.depth(y) + 1) as f64;
        for pos in 0..=t.depth(y) {
            let a = ancestor(t, y, pos);
            let cur = suffix(a, y);
            for y2 in terminals_under(t, a) {
                let prop = suffix(a, y2);
                let move_p = target[y].exp() / n * prop.log_q.exp();
                let acc = log_a(&cur, &prop).exp().min(1.0);
                flow[y2] += move_p * acc;
                flow[y] += move_p * (1.0 - acc);
            }
        }
    }
    (0..t.len()).filter(|&y| t.is_terminal(y)).map(|y| (flow[y] - target[y].exp()).abs()).fold(0.0, f64::max)
}

/// π_ref^α is stationary for the sampler's kernel, exactly, on small trees and either proposal;
/// dropping the proposal's probabilities or the position choice from the ratio breaks it.
#[test]
fn the_kernel_leaves_the_exact_power_target_invariant() {
    for (name, alpha) in [("reasoning", 2.0), ("geometric", 1.5), ("loop", 3.0), ("geometric", 0.5)] {
        let t = tree(name, Some(5));
        for (proposal, q) in [("base", t.base().clone()), ("temperature", temperature_conditionals(&t, alpha))] {
            let exact = stationarity_error(&t, alpha, &q, |c, p| log_acceptance(alpha, c, p));
            assert!(exact < 1e-13, "{name} α={alpha} {proposal}: π^α moves by {exact}");
            let no_q = stationarity_error(&t, alpha, &q, |c, p| {
                let z = |s: &Suffix| Suffix { log_q: 0.0, ..*s };
                log_acceptance(alpha, &z(c), &z(p))
            });
            assert!(no_q > 1e-3, "{name} α={alpha} {proposal}: without q the kernel moves π^α by {no_q} only");
            let no_positions = stationarity_error(&t, alpha, &q, |c, p| {
                let one = |s: &Suffix| Suffix { positions: 1, ..*s };
                log_acceptance(alpha, &one(c), &one(p))
            });
            assert!(no_positions > 1e-4, "{name} α={alpha} {proposal}: without 1/n π^α moves by {no_positions}");
        }
    }
}

/// The tree answers the sampler's question with its own base conditionals.
#[test]
fn the_tree_is_an_autoregressive_model() {
    let t = tree("reasoning", None);
    let mut out = vec![0.0; Autoregressive::vocab(&t)];
    for n in [0, 1, t.len() / 2] {
        if t.depth(n) == Autoregressive::max_len(&t) {
            continue;
        }
        let eos = t.next_log_probs(&t.sequence(n), &mut out);
        assert_eq!(eos, t.base().log_stop[n]);
        let total: f64 = out.iter().map(|x| x.exp()).sum::<f64>() + eos.exp();
        assert!((total - 1.0).abs() < 1e-12);
        for c in t.children(n) {
            assert_eq!(out[t.token(c) as usize], t.base().log_edge[c]);
        }
    }
    // A prefix the tree lacks ends the response instead of panicking.
    assert_eq!(t.next_log_probs(&[0, 0, 0], &mut out), 0.0);
    assert!(out.iter().all(|&x| x == f64::NEG_INFINITY));
}

/// Chain i depends on (seed, i) only: the same draws on any number of threads.
#[test]
fn seeded_and_independent_of_the_thread_count() {
    let t = tree("geometric", None);
    let s = PowerSampler::new(1.5, Proposal::Temperature, 8, Some(4)).unwrap();
    let one = sample_many(&t, &s, 50, 3, 1);
    let three = sample_many(&t, &s, 50, 3, 3);
    assert_eq!(one, three);
    assert_eq!(run_chain(&t, &s, &mut sharpen_toy::mcmc::chain_rng(3, 7)), one[7]);
    assert_ne!(sample_many(&t, &s, 50, 4, 2), one, "the seed matters");
    assert!(one.iter().all(|d| d.proposed == 8 * 3), "K moves in each of the 3 blocks");
    assert_eq!(draw_nodes(&t, &one).len(), 50);
}

/// `sharpen toy power`'s data: exact, MCMC and temperature laws and TV against K.
#[test]
fn the_report_lays_the_three_laws_side_by_side() {
    let t = tree("reasoning", None);
    let q = PowerQuery {
        alpha: 2.0,
        steps: 16,
        samples: 2000,
        seed: 1,
        proposal: Proposal::Temperature,
        block: None,
        threads: 2,
        max_nodes: 1_000_000,
    };
    let r = analyze_tree(&t, &q).unwrap();
    assert_eq!(r.block, 8);
    let ks: Vec<usize> = r.tv_by_steps.iter().map(|p| p.steps).collect();
    assert_eq!(ks, vec![0, 1, 2, 4, 8, 16]);
    // K = 0 is the proposal itself, token temperature; its accuracy is the temperature law's
    // up to Monte Carlo error, and the moves bring the law closer to π_ref^α.
    let (first, last) = (&r.tv_by_steps[0], &r.tv_by_steps[5]);
    assert!((first.accuracy - r.temperature.accuracy).abs() < 0.03);
    assert!(last.length_tv < first.length_tv && last.tv < first.tv, "{first:?} {last:?}");
    assert_eq!(last.tv, r.mcmc.tv);
    for law in [&r.exact, &r.mcmc.law, &r.temperature] {
        assert_eq!(law.length_pmf.len(), 9);
        assert!((law.length_pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    assert!(r.noise_floor.tv > 0.0 && r.noise_floor.tv < first.tv);
    let bad = |f: fn(&mut PowerQuery)| {
        let mut b = q.clone();
        f(&mut b);
        analyze_tree(&t, &b).is_err()
    };
    assert!(bad(|b| b.samples = 0));
    assert!(bad(|b| b.alpha = -1.0));
    assert!(bad(|b| b.block = Some(0)));
}
