//! A softmax tabular policy over a tabular autoregressive tree: one logit per prefix and
//! option (each child token, and EOS), initialised at π_ref's conditionals.
//!
//! Parameters are offsets δ added to the reference logits: δ[c] for the edge into child node c,
//! δ[len + n] for stopping at node n. Node n's options are its children and, when π_ref can stop
//! there, EOS; a prefix at the length cap stops with probability 1 and has no free logit.
//!
//! The estimator's expected gradient has a closed form by one backward pass. With the reward
//! r(y) = base(y) + c·P(y) and P(y) = Σ_t log q(y_t | y_<t) held constant, the term of the
//! prefix before node n cancels (Σ_o q(o|n) ∇log q(o|n) = 0), so
//!   G[n, o] = q(reach n) · q(o|n) · (W(n, o) − U(n)),
//!   W(n, stop) = c·log q(stop|n) + base(y_n),  W(n, child m) = c·log q(m|n) + U(m),
//!   U(n) = Σ_o q(o|n) W(n, o),
//! and J = U(root) = E_q[r]. This is for ordinary rollouts; with EOS ignored the rollouts come
//! from a different (EOS-masked) distribution and no such identity holds.
//!
//! The r of the reward can come from a self-reward instead of the task (docs/design.md §1a; see
//! [`TabularTree::with_reward_source`]): the sampled estimator then uses it, while the closed
//! forms above, written for r = the task reward, refuse it.

use super::estimator::{sample_categorical, ExactState, Rollout, Trainable};
use super::objective::Objective;
use crate::error::ToyError;
use crate::regime::Scores;
use crate::selfreward::{tree_group_rewards, RewardSource};
use crate::tree::dp::sequence_log_probs;
use crate::tree::{Policy, Tree};

#[derive(Debug, Clone)]
pub struct TabularTree {
    tree: Tree,
    objective: Objective,
    /// Roll out to the length cap: EOS is never sampled (the paper's fixed-length runs).
    ignore_eos: bool,
    c: f64,
    /// S of the complete sequence stopping at each node (−∞ where none stops).
    seq_ref: Vec<f64>,
    /// Where the r of the objective's reward comes from (the task by default).
    reward_source: RewardSource,
}

impl TabularTree {
    pub fn new(tree: Tree, objective: Objective, ignore_eos: bool) -> Result<Self, ToyError> {
        let seq_ref = sequence_log_probs(&tree, tree.base());
        let c = objective.policy_coefficient();
        Ok(Self { tree, objective, ignore_eos, c, seq_ref, reward_source: RewardSource::Task })
    }

    /// Train on a self-reward in place of the task reward r: a sequence's self-certainty or
    /// negative mean token entropy under the policy that sampled it (its own conditionals, EOS
    /// included even when rollouts ignore it, as the LLM trainer reads its logits), or the
    /// majority pseudo-label within each sampled Group of K. Only the sampled estimator
    /// (`sample`) supports it; the closed forms assume the task reward and refuse it.
    pub fn with_reward_source(self, reward_source: RewardSource) -> Self {
        Self { reward_source, ..self }
    }

    pub fn reward_source(&self) -> RewardSource {
        self.reward_source
    }

    fn task_source_only(&self, what: &str) {
        assert_eq!(self.reward_source, RewardSource::Task, "{what} is written for the task reward only");
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }
    pub fn ignore_eos(&self) -> bool {
        self.ignore_eos
    }

    fn at_cap(&self, n: usize) -> bool {
        self.tree.depth(n) == self.tree.max_len()
    }

    /// base(y) of the sequence stopping at n: its reward with P = 0.
    fn base_reward(&self, n: usize) -> f64 {
        self.objective.affine(self.tree.reward(n), self.seq_ref[n], self.tree.depth(n)).0
    }

    /// log of node n's normaliser over its options at δ (0 at the cap).
    fn log_norm(&self, delta: &[f64], n: usize) -> f64 {
        if self.at_cap(n) {
            return 0.0;
        }
        // Two passes (max, then sum) instead of collecting: this runs for every node at every step.
        let base = self.tree.base();
        let stop = base.log_stop[n] + delta[self.tree.len() + n];
        let logit = |c: usize| base.log_edge[c] + delta[c];
        let m = self.tree.children(n).map(logit).fold(stop, f64::max);
        if m == f64::NEG_INFINITY {
            return m;
        }
        m + self.tree.children(n).map(logit).chain([stop]).map(|x| (x - m).exp()).sum::<f64>().ln()
    }

    /// The token conditionals at δ.
    pub fn policy(&self, delta: &[f64]) -> Policy {
        let base = self.tree.base();
        let len = self.tree.len();
        let mut log_edge = vec![0.0; len];
        let mut log_stop = vec![f64::NEG_INFINITY; len];
        for n in 0..len {
            if self.at_cap(n) {
                log_stop[n] = 0.0;
                continue;
            }
            let z = self.log_norm(delta, n);
            for c in self.tree.children(n) {
                log_edge[c] = base.log_edge[c] + delta[c] - z;
            }
            log_stop[n] = base.log_stop[n] + delta[len + n] - z;
        }
        Policy { log_edge, log_stop }
    }

    /// J(δ) = E_q[r], by enumerating the complete sequences (task reward source only).
    pub fn objective_value(&self, delta: &[f64]) -> f64 {
        self.task_source_only("objective_value");
        let lq = sequence_log_probs(&self.tree, &self.policy(delta));
        (0..self.tree.len())
            .filter(|&n| lq[n] > f64::NEG_INFINITY)
            .map(|n| lq[n].exp() * (self.base_reward(n) + self.c * lq[n]))
            .sum()
    }

    /// G(δ): the expected gradient of the RLOO estimator (sequence-level loss, EOS not ignored;
    /// task reward source only).
    pub fn expected_gradient(&self, delta: &[f64]) -> Vec<f64> {
        self.task_source_only("expected_gradient");
        let q = self.policy(delta);
        let len = self.tree.len();
        let reach = crate::tree::dp::prefix_log_probs(&self.tree, &q);
        // Backward: U(n) = Σ_o q(o|n) W(n, o).
        let mut u = vec![0.0; len];
        for n in (0..len).rev() {
            let mut acc = 0.0;
            if q.log_stop[n] > f64::NEG_INFINITY {
                acc += q.log_stop[n].exp() * (self.c * q.log_stop[n] + self.base_reward(n));
            }
            for ch in self.tree.children(n) {
                if q.log_edge[ch] > f64::NEG_INFINITY {
                    acc += q.log_edge[ch].exp() * (self.c * q.log_edge[ch] + u[ch]);
                }
            }
            u[n] = acc;
        }
        let mut g = vec![0.0; 2 * len];
        for n in 0..len {
            if self.at_cap(n) || reach[n] == f64::NEG_INFINITY {
                continue;
            }
            let r = reach[n].exp();
            if q.log_stop[n] > f64::NEG_INFINITY {
                let w = self.c * q.log_stop[n] + self.base_reward(n);
                g[len + n] = r * q.log_stop[n].exp() * (w - u[n]);
            }
            for ch in self.tree.children(n) {
                if q.log_edge[ch] > f64::NEG_INFINITY {
                    let w = self.c * q.log_edge[ch] + u[ch];
                    g[ch] = r * q.log_edge[ch].exp() * (w - u[n]);
                }
            }
        }
        g
    }
}

impl Trainable for TabularTree {
    fn num_params(&self) -> usize {
        2 * self.tree.len()
    }

    fn sample(&self, delta: &[f64], k: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<Rollout> {
        let base = self.tree.base();
        let len = self.tree.len();
        let mut rollouts: Vec<Rollout> = (0..k)
            .map(|_| {
                let (mut n, mut p, mut s) = (0usize, 0.0, 0.0);
                loop {
                    if self.at_cap(n) {
                        break;
                    }
                    let z = self.log_norm(delta, n);
                    let kids: Vec<usize> = self.tree.children(n).collect();
                    let stop_lq = base.log_stop[n] + delta[len + n] - z;
                    // Options: the children, then EOS unless ignored (or unless nothing else is left).
                    let can_stop = stop_lq > f64::NEG_INFINITY && (!self.ignore_eos || kids.is_empty());
                    let mut w: Vec<f64> = kids.iter().map(|&c| (base.log_edge[c] + delta[c] - z).exp()).collect();
                    w.push(if can_stop { stop_lq.exp() } else { 0.0 });
                    let total: f64 = w.iter().sum();
                    w.iter_mut().for_each(|x| *x /= total);
                    let o = sample_categorical(&w, rng);
                    if o == kids.len() {
                        p += stop_lq;
                        s += base.log_stop[n];
                        break;
                    }
                    let c = kids[o];
                    p += base.log_edge[c] + delta[c] - z;
                    s += base.log_edge[c];
                    n = c;
                }
                let length = self.tree.depth(n);
                let task = self.tree.reward(n);
                Rollout { response: n, task, ref_logprob: s, policy_logprob: p, length, reward: 0.0 }
            })
            .collect();
        // The r the objective sees: the task reward, or a self-reward of the sampling policy.
        let nodes: Vec<usize> = rollouts.iter().map(|r| r.response).collect();
        let r = match self.reward_source {
            RewardSource::Task | RewardSource::Majority => {
                tree_group_rewards(&self.tree, base, &nodes, self.reward_source)
            }
            s => tree_group_rewards(&self.tree, &self.policy(delta), &nodes, s),
        };
        for (ro, r) in rollouts.iter_mut().zip(r) {
            let scores =
                Scores { task: r, ref_logprob: ro.ref_logprob, policy_logprob: ro.policy_logprob, length: ro.length };
            ro.reward = self.objective.reward(&scores);
        }
        rollouts
    }

    fn add_score(&self, delta: &[f64], rollout: &Rollout, weight: f64, grad: &mut [f64]) {
        // ∇ log q(y) = Σ over the path's nodes of (e_chosen − q(·|node)) in that node's options.
        let base = self.tree.base();
        let len = self.tree.len();
        let end = rollout.response;
        let mut n = end;
        // (node, index of the chosen option's parameter): stop at the end (unless at the cap),
        // then each edge on the way up.
        let mut path: Vec<(usize, usize)> = Vec::new();
        if !self.at_cap(end) {
            path.push((end, len + end));
        }
        while n != 0 {
            let parent = self.tree.parent(n);
            path.push((parent, n));
            n = parent;
        }
        for (node, pick) in path {
            let z = self.log_norm(delta, node);
            for c in self.tree.children(node) {
                grad[c] -= weight * (base.log_edge[c] + delta[c] - z).exp();
            }
            let ls = base.log_stop[node] + delta[len + node] - z;
            if ls > f64::NEG_INFINITY {
                grad[len + node] -= weight * ls.exp();
            }
            grad[pick] += weight;
        }
    }

    fn exact(&self, delta: &[f64]) -> ExactState {
        let lq = sequence_log_probs(&self.tree, &self.policy(delta));
        let (mut acc, mut length, mut ent, mut obj) = (0.0, 0.0, 0.0, 0.0);
        let (mut mode, mut mode_lq) = (0usize, f64::NEG_INFINITY);
        for (n, &l) in lq.iter().enumerate() {
            if l == f64::NEG_INFINITY {
                continue;
            }
            let q = l.exp();
            acc += q * self.tree.reward(n);
            length += q * self.tree.depth(n) as f64;
            ent -= q * l;
            obj += q * (self.base_reward(n) + self.c * l);
            if l > mode_lq {
                (mode, mode_lq) = (n, l);
            }
        }
        if self.reward_source != RewardSource::Task {
            // J is written for the task reward; a self-reward's objective is not computed here.
            obj = f64::NAN;
        }
        ExactState {
            accuracy: acc,
            expected_length: length,
            entropy: ent,
            mode,
            mode_prob: mode_lq.exp(),
            objective: obj,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::estimator::{surrogate_gradient, Group, LossAggregation};
    use crate::dynamics::ode::{dopri5, Tolerance};
    use crate::regime::Regime;
    use crate::tree::dp::Target;
    use crate::tree::{FamilyOptions, FamilySpec, DEFAULT_MAX_NODES};
    use rand::SeedableRng;

    fn tree(name: &str, vocab: usize, max_len: usize) -> Tree {
        let o = FamilyOptions { vocab: Some(vocab), max_len: Some(max_len), ..Default::default() };
        FamilySpec::parse(name, &o).unwrap().build(DEFAULT_MAX_NODES).unwrap()
    }

    fn objectives() -> Vec<Objective> {
        vec![
            Regime::task_reward().into(),
            Regime::sharpening().into(),
            Regime::tempered(2.0).unwrap().into(),
            Regime::tilted(1.0, 10.0).unwrap().into(),
            Objective::SelfCertainty,
        ]
    }

    fn some_delta(m: &TabularTree) -> Vec<f64> {
        (0..m.num_params()).map(|i| 0.3 * (((i * 7) % 5) as f64 - 2.0)).collect()
    }

    #[test]
    fn starts_at_the_reference_conditionals() {
        let t = tree("reasoning", 3, 4);
        let m = TabularTree::new(t.clone(), Regime::sharpening().into(), false).unwrap();
        let q = sequence_log_probs(&t, &m.policy(&vec![0.0; m.num_params()]));
        let p = sequence_log_probs(&t, t.base());
        for (a, b) in q.iter().zip(&p) {
            assert!((a == b) || (a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences_of_the_objective() {
        for name in ["reasoning", "geometric"] {
            let t = tree(name, 3, 4);
            for o in objectives() {
                let m = TabularTree::new(t.clone(), o, false).unwrap();
                let d = some_delta(&m);
                let g = m.expected_gradient(&d);
                let h = 1e-6;
                for i in 0..m.num_params() {
                    let (mut a, mut b) = (d.clone(), d.clone());
                    a[i] += h;
                    b[i] -= h;
                    let fd = (m.objective_value(&a) - m.objective_value(&b)) / (2.0 * h);
                    assert!((fd - g[i]).abs() < 1e-7, "{name} {o} param {i}: fd {fd} vs {}", g[i]);
                }
            }
        }
    }

    /// Average of many sampled RLOO gradients (sequence-level loss) vs the closed form: every
    /// parameter within 5 standard errors, fixed seed.
    #[test]
    fn sampled_rloo_gradient_averages_to_the_closed_form() {
        let t = tree("reasoning", 3, 4);
        for o in [Regime::sharpening().into(), Regime::task_reward().into(), Objective::SelfCertainty] {
            let m = TabularTree::new(t.clone(), o, false).unwrap();
            let d = some_delta(&m);
            let exact = m.expected_gradient(&d);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
            let n = 30_000;
            let (mut sum, mut sq) = (vec![0.0; m.num_params()], vec![0.0; m.num_params()]);
            for _ in 0..n {
                let g = Group::new(m.sample(&d, 4, &mut rng));
                let est = surrogate_gradient(&m, &d, &[g], LossAggregation::Sequence);
                for i in 0..est.len() {
                    sum[i] += est[i];
                    sq[i] += est[i] * est[i];
                }
            }
            for i in 0..exact.len() {
                let mean = sum[i] / n as f64;
                let se = ((sq[i] / n as f64 - mean * mean) / n as f64).sqrt();
                assert!((mean - exact[i]).abs() <= 5.0 * se + 1e-12, "{o} param {i}: {mean} vs {} (se {se})", exact[i]);
            }
        }
    }

    #[test]
    fn sampled_rollouts_carry_their_exact_log_likelihoods() {
        let t = tree("geometric", 2, 5);
        let m = TabularTree::new(t.clone(), Regime::tempered(2.0).unwrap().into(), false).unwrap();
        let d = some_delta(&m);
        let lq = sequence_log_probs(&t, &m.policy(&d));
        let lp = sequence_log_probs(&t, t.base());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for r in m.sample(&d, 200, &mut rng) {
            assert!((r.policy_logprob - lq[r.response]).abs() < 1e-12);
            assert!((r.ref_logprob - lp[r.response]).abs() < 1e-12);
            assert_eq!(r.length, t.depth(r.response));
        }
    }

    #[test]
    fn ignoring_eos_rolls_out_to_the_cap() {
        let t = tree("geometric", 2, 5);
        let m = TabularTree::new(t, Regime::sharpening().into(), true).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let rolls = m.sample(&vec![0.0; m.num_params()], 100, &mut rng);
        assert!(rolls.iter().all(|r| r.length == 5));
        // P is the unmasked policy's log-likelihood (EOS mass included in each step's normaliser),
        // which at δ = 0 is S exactly.
        for r in &rolls {
            assert!((r.policy_logprob - r.ref_logprob).abs() < 1e-12);
        }
    }

    #[test]
    fn tempered_flow_on_a_tree_ends_at_the_exact_power_target() {
        let t = tree("reasoning", 3, 4);
        let regime = Regime::tempered(2.0).unwrap();
        let m = TabularTree::new(t.clone(), regime.into(), false).unwrap();
        let path = dopri5(|d| m.expected_gradient(d), &vec![0.0; m.num_params()], &[1e5], Tolerance::default());
        assert!(path.completed);
        let end = sequence_log_probs(&t, &m.policy(&path.states[0]));
        let target = Target::new(&t, &regime).log_q();
        let err = end
            .iter()
            .zip(&target)
            .filter(|(a, _)| **a > f64::NEG_INFINITY)
            .map(|(a, b)| (a.exp() - b.exp()).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-6, "max |q_end − π*| = {err}");
    }
}
