//! Exact dynamic programming over (position, state) with token multiplicities, in log space.
//!
//! Two facts make the prefix tree unnecessary. (1) Every weight the regimes put on a sequence
//! of length ℓ is a power of its probability: π_ref(y)·exp((α−1)·N(y)) = π_ref(y)^{a_ℓ} with
//! a_ℓ = 1 + (α−1)·k(ℓ), k = 1 for `sum`, 1/ℓ for `mean`, 1/ℓ^w for `weighted_mean`, times
//! exp(β⁻¹·r) of the final state. (2) Σ over the m tokens of a group of p^a is m·p^a, so a
//! law costs its number of groups, and the groups leading to the same next state collapse into
//! one step per exponent ([`Tilt`]).
//!
//! So a distribution over complete sequences is held as [`Cell`]s — one per (length, final
//! state) — each with its mass, the exponent of its within-cell law and the mean of S = log
//! π_ref(y) within it; length law, accuracy, answers and entropy follow from the cells.
//!
//! Costs, with L the cap, S the states, T ≤ S the distinct next states of a law and G the
//! groups of all laws: `sum` (and no normalisation) O(G + L·S·T) per target; `mean` and
//! `weighted_mean` do not decompose over positions (a_ℓ depends on the final length), so one
//! forward pass per length: O(L·G + L²·S·T); optimization mode, a max-plus pass with tie
//! masses: O(G + L·S·T).

use super::model::{Law, StateModel};
use crate::bandit::ARGMAX_TOL;
use crate::regime::{Mode, Regime};
use crate::tree::dp::Summary;
use crate::tree::power::pow_log;
use std::collections::{BTreeMap, HashMap};

const NEG: f64 = f64::NEG_INFINITY;

/// Add a term of log-weight `lw` and mean `mean` into a (log-weight, weighted mean) pair.
fn merge(acc: &mut (f64, f64), lw: f64, mean: f64) {
    if lw == NEG {
        return;
    }
    if acc.0 == NEG {
        *acc = (lw, mean);
        return;
    }
    let m = acc.0.max(lw);
    let (wa, wb) = ((acc.0 - m).exp(), (lw - m).exp());
    let tot = wa + wb;
    acc.1 = (acc.1 * wa + mean * wb) / tot;
    acc.0 = m + tot.ln();
}

fn logaddexp(a: f64, b: f64) -> f64 {
    let mut acc = (a, 0.0);
    merge(&mut acc, b, 0.0);
    acc.0
}

/// One step of a law at exponent a: to `next`, log Σ_g m_g·p_g^a over the groups leading
/// there, and the mean of log p_g under the weights m_g·p_g^a.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub next: usize,
    pub log_w: f64,
    pub mean_log_p: f64,
}

/// A law's groups collapsed by next state at exponent `a`.
pub fn aggregate(law: &Law, a: f64) -> Vec<Step> {
    // Two passes (max, then Σ exp) so that a law of 152k groups costs one exp per group.
    let log_m = |c: u32| if c == 1 { 0.0 } else { (c as f64).ln() };
    let mut best: Vec<(usize, f64)> = Vec::new();
    let mut slot = Vec::with_capacity(law.groups.len());
    for g in &law.groups {
        let lw = log_m(g.count) + a * g.log_p;
        let k = match best.iter().position(|(n, _)| *n == g.next) {
            Some(k) => k,
            None => {
                best.push((g.next, lw));
                best.len() - 1
            }
        };
        best[k].1 = best[k].1.max(lw);
        slot.push(k);
    }
    let mut sums = vec![(0.0f64, 0.0f64); best.len()];
    for (g, &k) in law.groups.iter().zip(&slot) {
        let w = (log_m(g.count) + a * g.log_p - best[k].1).exp();
        sums[k].0 += w;
        sums[k].1 += w * g.log_p;
    }
    best.iter().zip(sums).map(|(&(next, m), (w, wl))| Step { next, log_w: m + w.ln(), mean_log_p: wl / w }).collect()
}

/// Every law of a model aggregated at one exponent: `steps[s][piece]`.
pub struct Tilt {
    pub a: f64,
    steps: Vec<Vec<Vec<Step>>>,
}

impl Tilt {
    pub fn new(m: &StateModel, a: f64) -> Self {
        // Families share one law between states (geometric: every state; Zipf at V = 152k makes
        // that 152k groups), so a law equal to the same piece of an earlier state is reused.
        let mut steps: Vec<Vec<Vec<Step>>> = Vec::with_capacity(m.len());
        for (s, st) in m.states.iter().enumerate() {
            let mut mine = Vec::with_capacity(st.pieces.len());
            for (k, (from, law)) in st.pieces.iter().enumerate() {
                let same = (0..s).find(|&r| m.states[r].pieces.get(k).is_some_and(|(f, l)| f == from && l == law));
                mine.push(match same {
                    Some(r) => steps[r][k].clone(),
                    None => aggregate(law, a),
                });
            }
            steps.push(mine);
        }
        Self { a, steps }
    }
    pub fn at(&self, m: &StateModel, pos: usize, s: usize) -> &[Step] {
        let k = m.states[s].pieces.partition_point(|p| p.0 <= pos);
        &self.steps[s][k - 1]
    }
}

/// Forward pass at exponent a: `log_f[(pos, s)]` = log Σ over prefixes of length pos ending in
/// s of π_ref(prefix)^a, and `mean_s` the mean of log π_ref(prefix) under those weights.
pub struct Forward {
    pub states: usize,
    pub log_f: Vec<f64>,
    pub mean_s: Vec<f64>,
}

impl Forward {
    pub fn at(&self, pos: usize, s: usize) -> (f64, f64) {
        let i = pos * self.states + s;
        (self.log_f[i], self.mean_s[i])
    }
}

/// The forward pass up to position `upto` (≤ max_len).
pub fn forward(m: &StateModel, tilt: &Tilt, upto: usize) -> Forward {
    let ns = m.len();
    let mut log_f = vec![NEG; (upto + 1) * ns];
    let mut mean_s = vec![0.0; (upto + 1) * ns];
    log_f[m.start] = 0.0;
    for pos in 0..upto {
        for s in 0..ns {
            let (f, e) = (log_f[pos * ns + s], mean_s[pos * ns + s]);
            if f == NEG {
                continue;
            }
            for st in tilt.at(m, pos, s) {
                let j = (pos + 1) * ns + st.next;
                let mut acc = (log_f[j], mean_s[j]);
                merge(&mut acc, f + st.log_w, e + st.mean_log_p);
                (log_f[j], mean_s[j]) = acc;
            }
        }
    }
    Forward { states: ns, log_f, mean_s }
}

/// The complete sequences of one length ending in one state, under some target: their total
/// unnormalised log-mass, and the form of the target within: log q(y) = a·S(y) + log_c − log Z,
/// with `mean_s` = E[S | cell] under the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub len: usize,
    pub state: usize,
    pub log_mass: f64,
    pub a: f64,
    pub log_c: f64,
    pub mean_s: f64,
}

/// A regime's exact target as cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub cells: Vec<Cell>,
    pub log_z: f64,
}

/// The cells of π_ref(y)^a·c(f) at one length from a forward pass at exponent a.
fn cells_at(m: &StateModel, fwd: &Forward, len: usize, a: f64, log_c: &dyn Fn(usize) -> f64, out: &mut Vec<Cell>) {
    for s in 0..m.len() {
        let (f, e) = fwd.at(len, s);
        let stop = m.log_stop(len, s);
        let w = f + pow_log(a, stop);
        if w == NEG {
            continue;
        }
        let c = log_c(s);
        out.push(Cell { len, state: s, log_mass: w + c, a, log_c: c, mean_s: e + stop });
    }
}

/// The cells of the base model π_ref (a = 1).
pub fn base_cells(m: &StateModel) -> Vec<Cell> {
    let fwd = forward(m, &Tilt::new(m, 1.0), m.max_len);
    let mut out = Vec::new();
    for len in 0..=m.max_len {
        cells_at(m, &fwd, len, 1.0, &|_| 0.0, &mut out);
    }
    out
}

fn finish(cells: Vec<Cell>) -> Target {
    let log_z = crate::logspace::logsumexp(&cells.iter().map(|c| c.log_mass).collect::<Vec<_>>());
    Target { cells, log_z }
}

/// Max-plus pass: for each (pos, s) the largest log π_ref(prefix) and the log-mass of the
/// prefixes within the argmax tolerance of it (the tree's tie rule, applied where paths meet).
fn max_forward(m: &StateModel) -> Vec<(f64, f64)> {
    let ns = m.len();
    // Per law: per next state, the best log p and the log-mass of the groups tied at it.
    let best: Vec<Vec<Vec<(usize, f64, f64)>>> = m
        .states
        .iter()
        .map(|st| {
            st.pieces
                .iter()
                .map(|(_, law)| {
                    let mut out: Vec<(usize, f64, f64)> = Vec::new();
                    for g in &law.groups {
                        let mass = (g.count as f64).ln() + g.log_p;
                        match out.iter_mut().find(|x| x.0 == g.next) {
                            Some(x) => tie_merge(&mut x.1, &mut x.2, g.log_p, mass),
                            None => out.push((g.next, g.log_p, mass)),
                        }
                    }
                    out
                })
                .collect()
        })
        .collect();
    let mut v = vec![(NEG, NEG); (m.max_len + 1) * ns];
    v[m.start] = (0.0, 0.0);
    for pos in 0..m.max_len {
        for s in 0..ns {
            let (sm, mass) = v[pos * ns + s];
            if sm == NEG {
                continue;
            }
            let k = m.states[s].pieces.partition_point(|p| p.0 <= pos);
            for &(next, lp, lm) in &best[s][k - 1] {
                let j = (pos + 1) * ns + next;
                let (mut a, mut b) = v[j];
                tie_merge(&mut a, &mut b, sm + lp, mass + lm);
                v[j] = (a, b);
            }
        }
    }
    v
}

fn tie_merge(best: &mut f64, mass: &mut f64, s: f64, s_mass: f64) {
    let tol = ARGMAX_TOL * best.abs().max(s.abs()).max(1.0);
    if *best == NEG || s > *best + tol {
        (*best, *mass) = (s, s_mass);
    } else if s >= *best - tol {
        *best = best.max(s);
        *mass = logaddexp(*mass, s_mass);
    }
}

/// The exact target of any regime (see the module documentation for the costs).
pub fn target(m: &StateModel, regime: &Regime) -> Target {
    let reward = |s: usize| m.states[s].reward;
    if regime.mode == Mode::Sampling {
        let b = regime.beta_inv;
        let log_c = move |s: usize| b * reward(s);
        // a_ℓ = 1 + (α−1)·k(ℓ) with k(ℓ) = N(S=1, ℓ).
        let a_of = |len: usize| 1.0 + crate::logspace::scaled(regime.alpha - 1.0, regime.normalized(1.0, len));
        let mut cells = Vec::new();
        let constant = (0..=m.max_len).all(|l| a_of(l) == a_of(0));
        if constant {
            let a = a_of(0);
            let fwd = forward(m, &Tilt::new(m, a), m.max_len);
            for len in 0..=m.max_len {
                cells_at(m, &fwd, len, a, &log_c, &mut cells);
            }
        } else {
            let mut tilts: HashMap<u64, Tilt> = HashMap::new();
            for len in 0..=m.max_len {
                let a = a_of(len);
                let tilt = tilts.entry(a.to_bits()).or_insert_with(|| Tilt::new(m, a));
                let fwd = forward(m, tilt, len);
                cells_at(m, &fwd, len, a, &log_c, &mut cells);
            }
        }
        return finish(cells);
    }
    // Optimization and none: π_ref restricted to the argmax of the score b·r + α·N.
    let s_free =
        regime.mode == Mode::None || regime.alpha == 0.0 || regime.normalization == crate::regime::Normalization::None;
    let candidates: Vec<(Cell, f64)> = if s_free {
        base_cells(m).into_iter().map(|c| (c, regime.log_target_weight(reward(c.state), 0.0, c.len))).collect()
    } else {
        let v = max_forward(m);
        let ns = m.len();
        let mut out = Vec::new();
        for len in 0..=m.max_len {
            for s in 0..ns {
                let (sm, mass) = v[len * ns + s];
                let stop = m.log_stop(len, s);
                if sm == NEG || stop == NEG {
                    continue;
                }
                let (sm, mass) = (sm + stop, mass + stop);
                let cell = Cell { len, state: s, log_mass: mass, a: 1.0, log_c: 0.0, mean_s: sm };
                out.push((cell, regime.log_target_weight(reward(s), sm, len)));
            }
        }
        out
    };
    let best = candidates.iter().map(|c| c.1).fold(NEG, f64::max);
    let tol = ARGMAX_TOL * best.abs().max(1.0);
    finish(candidates.into_iter().filter(|(_, sc)| *sc >= best - tol || *sc == best).map(|(c, _)| c).collect())
}

/// The answers of the complete sequences π_ref can produce (the tree's answer list).
pub fn answer_names(m: &StateModel, base: &[Cell]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in base {
        let a = &m.states[c.state].answer;
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

fn empty_summary(m: &StateModel, answers: &[String]) -> Summary {
    Summary {
        length_pmf: vec![0.0; m.max_len + 1],
        mean_length: 0.0,
        accuracy: 0.0,
        entropy: 0.0,
        answers: answers.iter().map(|a| (a.clone(), 0.0)).collect::<BTreeMap<_, _>>(),
    }
}

/// Length law, accuracy, entropy and answers of a target given as cells.
pub fn summarize(m: &StateModel, t: &Target, answers: &[String]) -> Summary {
    let mut out = empty_summary(m, answers);
    for c in &t.cells {
        let lq = c.log_mass - t.log_z;
        let q = lq.exp();
        if q == 0.0 {
            continue;
        }
        out.length_pmf[c.len] += q;
        let st = &m.states[c.state];
        out.accuracy += q * st.reward;
        *out.answers.entry(st.answer.clone()).or_default() += q;
        out.entropy -= q * (c.a * c.mean_s + c.log_c - t.log_z);
    }
    out.mean_length = out.length_pmf.iter().enumerate().map(|(l, p)| l as f64 * p).sum();
    out
}

/// Token conditionals that are a tilt of the base law with per-(position, state) offsets:
/// log q(token of group g | pos, s) = α·log p_g + log_next(pos+1, next_g) − log_norm(pos, s),
/// log q(stop | pos, s) = α·log p(stop) − log_norm(pos, s). The exact power conditionals
/// (log_next = log_norm = log Z_α) and token temperature (log_next = 0) both have this form.
#[derive(Debug, Clone, PartialEq)]
pub struct StatePolicy {
    pub alpha: f64,
    pub states: usize,
    pub log_next: Vec<f64>,
    pub log_norm: Vec<f64>,
    /// Added to the stop's log-weight at each position (see [`power_policy`]).
    pub stop_shift: Vec<f64>,
}

impl StatePolicy {
    fn next_at(&self, pos: usize, s: usize) -> f64 {
        self.log_next[pos * self.states + s]
    }
    fn norm_at(&self, pos: usize, s: usize) -> f64 {
        self.log_norm[pos * self.states + s]
    }
    /// log q(v | pos, s); −∞ for a token the base model never emits there.
    pub fn log_token(&self, m: &StateModel, pos: usize, s: usize, v: u32) -> f64 {
        if pos >= m.max_len {
            return NEG;
        }
        match m.law(pos, s).groups.iter().find(|g| v >= g.first && v - g.first < g.count) {
            Some(g) => self.alpha * g.log_p + self.next_at(pos + 1, g.next) - self.norm_at(pos, s),
            None => NEG,
        }
    }
    /// log q(stop | pos, s).
    pub fn log_stop(&self, m: &StateModel, pos: usize, s: usize) -> f64 {
        pow_log(self.alpha, m.log_stop(pos, s)) + self.stop_shift[pos] - self.norm_at(pos, s)
    }
}

/// log Z_α(pos, s) = log Σ over completions of π_ref(completion)^α (backward pass).
pub fn suffix_log_partition(m: &StateModel, tilt: &Tilt) -> Vec<f64> {
    let ns = m.len();
    let mut z = vec![NEG; (m.max_len + 1) * ns];
    z[m.max_len * ns..].iter_mut().for_each(|x| *x = 0.0);
    for pos in (0..m.max_len).rev() {
        for s in 0..ns {
            let mut acc = pow_log(tilt.a, m.log_stop(pos, s));
            for st in tilt.at(m, pos, s) {
                acc = logaddexp(acc, st.log_w + z[(pos + 1) * ns + st.next]);
            }
            z[pos * ns + s] = acc;
        }
    }
    z
}

/// The exact token conditionals of π_ref^α: p^α·Z_α(next) / Z_α(here).
///
/// log Z_α reaches ~5·10^4 nats at V = 152k, L = 4096, where a double's spacing is ~10^-11, so
/// Z_α(next)/Z_α(here) is not formed from log Z_α: the backward pass keeps per position the
/// shift m(pos) = max_s log Z_α(pos, s) apart, as the small numbers R = log Z_α − m(pos) and
/// T(pos, s) = log Z_α(pos, s) − m(pos+1); then log q(v) = α·log p + R(pos+1, next) − T(pos, s)
/// and log q(stop) = α·log p(stop) − m(pos+1) − T(pos, s).
pub fn power_policy(m: &StateModel, alpha: f64) -> StatePolicy {
    let ns = m.len();
    let tilt = Tilt::new(m, alpha);
    let mut r = vec![0.0; (m.max_len + 1) * ns];
    let mut t = vec![0.0; (m.max_len + 1) * ns];
    let mut stop_shift = vec![0.0; m.max_len + 1];
    // m(pos+1), starting at the cap where log Z_α = 0.
    let mut shift_next = 0.0;
    for pos in (0..m.max_len).rev() {
        stop_shift[pos] = -shift_next;
        let mut top = NEG;
        for s in 0..ns {
            let mut acc = pow_log(alpha, m.log_stop(pos, s)) - shift_next;
            for st in tilt.at(m, pos, s) {
                acc = logaddexp(acc, st.log_w + r[(pos + 1) * ns + st.next]);
            }
            t[pos * ns + s] = acc;
            top = top.max(acc);
        }
        let top = if top == NEG { 0.0 } else { top };
        for s in 0..ns {
            r[pos * ns + s] = t[pos * ns + s] - top;
        }
        shift_next += top;
    }
    StatePolicy { alpha, states: ns, log_next: r, log_norm: t, stop_shift }
}

/// Token temperature 1/α: p^α renormalised over the tokens and EOS at each step.
pub fn temperature_policy(m: &StateModel, alpha: f64) -> StatePolicy {
    let ns = m.len();
    let tilt = Tilt::new(m, alpha);
    let mut log_norm = vec![0.0; (m.max_len + 1) * ns];
    for pos in 0..m.max_len {
        for s in 0..ns {
            let mut acc = pow_log(alpha, m.log_stop(pos, s));
            for st in tilt.at(m, pos, s) {
                acc = logaddexp(acc, st.log_w);
            }
            log_norm[pos * ns + s] = acc;
        }
    }
    StatePolicy {
        alpha,
        states: ns,
        log_next: vec![0.0; (m.max_len + 1) * ns],
        log_norm,
        stop_shift: vec![0.0; m.max_len + 1],
    }
}

/// The sequence law of a policy, as a summary, and KL(policy ‖ other) when `other` is given
/// (+∞ if the policy puts mass where the other has none).
pub fn policy_law(m: &StateModel, p: &StatePolicy, other: Option<&StatePolicy>, answers: &[String]) -> (Summary, f64) {
    let ns = m.len();
    let tp = Tilt::new(m, p.alpha);
    let mut out = empty_summary(m, answers);
    let mut kl = 0.0;
    let mut occ = vec![NEG; (m.max_len + 1) * ns];
    occ[m.start] = 0.0;
    for pos in 0..=m.max_len {
        for s in 0..ns {
            let lo = occ[pos * ns + s];
            if lo == NEG {
                continue;
            }
            let here = lo.exp();
            let norm = p.norm_at(pos, s);
            let stop = p.log_stop(m, pos, s);
            if stop > NEG {
                let q = (lo + stop).exp();
                out.length_pmf[pos] += q;
                let st = &m.states[s];
                out.accuracy += q * st.reward;
                *out.answers.entry(st.answer.clone()).or_default() += q;
                out.entropy -= q * stop;
                if let Some(o) = other {
                    kl += q * (stop - o.log_stop(m, pos, s));
                }
            }
            if pos == m.max_len {
                continue;
            }
            for st in tp.at(m, pos, s) {
                let off = p.next_at(pos + 1, st.next) - norm;
                let lstep = st.log_w + off;
                if lstep == NEG {
                    continue;
                }
                let w = here * lstep.exp();
                // E[log q(token) | step] = α·E[log p] + offset.
                out.entropy -= w * (p.alpha * st.mean_log_p + off);
                if let Some(o) = other {
                    let o_off = o.next_at(pos + 1, st.next) - o.norm_at(pos, s);
                    kl += w * ((p.alpha - o.alpha) * st.mean_log_p + off - o_off);
                }
                let j = (pos + 1) * ns + st.next;
                occ[j] = logaddexp(occ[j], lo + lstep);
            }
        }
    }
    out.mean_length = out.length_pmf.iter().enumerate().map(|(l, q)| l as f64 * q).sum();
    (out, if kl.is_nan() { f64::INFINITY } else { kl.max(0.0) })
}

/// max over reachable (pos, s) of the spread of log Z_α across its continuations (stopping
/// counts as one with Z = 1): 0 exactly when power and temperature coincide.
pub fn continuation_spread(m: &StateModel, alpha: f64) -> f64 {
    let ns = m.len();
    let tilt = Tilt::new(m, alpha);
    let z = suffix_log_partition(m, &tilt);
    let reach = forward(m, &Tilt::new(m, 0.0), m.max_len);
    let mut spread: f64 = 0.0;
    for pos in 0..=m.max_len {
        for s in 0..ns {
            if reach.at(pos, s).0 == NEG {
                continue;
            }
            let (mut lo, mut hi) = (f64::INFINITY, NEG);
            if m.log_stop(pos, s) > NEG {
                (lo, hi) = (0.0, 0.0);
            }
            if pos < m.max_len {
                // Z_α depends on a group only through its next state: one value per step.
                for st in tilt.at(m, pos, s) {
                    let x = z[(pos + 1) * ns + st.next];
                    (lo, hi) = (lo.min(x), hi.max(x));
                }
            }
            if hi >= lo {
                spread = spread.max(hi - lo);
            }
        }
    }
    spread
}

/// log10 of the number of prefixes of the equivalent tree (positive-probability prefixes).
pub fn log10_prefixes(m: &StateModel) -> f64 {
    let fwd = forward(m, &Tilt::new(m, 0.0), m.max_len);
    crate::logspace::logsumexp(&fwd.log_f) / std::f64::consts::LN_10
}
