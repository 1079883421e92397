//! The named tree families ([`crate::tree::families`]) as state-space models.
//!
//! * geometric — states: the empty response, then the last token (its answer). Up to
//!   [`PER_TOKEN_STATES`] tokens each has its own state, so answers are the tree's letters;
//!   above, the wrong tokens share one state whose answer is [`OTHER`] (152,000 answer states
//!   would cost V² per position and say nothing more about lengths or accuracy).
//! * reasoning — root, chain, answered A, answered B; the chain's law changes one token before
//!   the cap, where concluding is forced.
//! * loop — root, loop, answered A, one state per wrong answer (lumped above the same bound).
//! * fixed-length:FAMILY — [`StateModel::fixed_length`].

use super::model::{Group, Law, State, StateModel};
use crate::error::ToyError;
use crate::tree::families::{Geometric, Loop, Reasoning};
use crate::tree::model::Family;
use crate::tree::spec::{FamilyKind, FamilySpec};

/// Vocabularies up to this size get one state per answer token.
pub const PER_TOKEN_STATES: usize = 64;
/// The answer of the lumped wrong tokens of a large vocabulary.
pub const OTHER: &str = "other";

fn letter(v: u32) -> String {
    if v < 26 {
        ((b'a' + v as u8) as char).to_string()
    } else {
        format!("t{v}")
    }
}

fn state(name: &str, answer: &str, reward: f64, law: Law) -> State {
    State { name: name.into(), answer: answer.into(), reward, pieces: vec![(0, law)] }
}

fn group(first: u32, count: u32, p: f64, next: usize) -> Option<Group> {
    (p > 0.0 && count > 0).then(|| Group { first, count, log_p: p.ln(), next })
}

fn law(stop: f64, groups: impl IntoIterator<Item = Option<Group>>) -> Law {
    Law { log_stop: stop.ln(), groups: groups.into_iter().flatten().collect() }
}

pub fn geometric(g: &Geometric) -> Result<StateModel, ToyError> {
    let v = g.vocab;
    let u = g.token_weights();
    let keep = 1.0 - g.stop;
    let per_token = v <= PER_TOKEN_STATES;
    // State 0 is the empty response; token t leads to state 1 + t (per token) or to 1 (`a`)
    // and 2 (the rest).
    let next = |t: usize| if per_token { 1 + t } else { 1 + usize::from(t > 0) };
    let groups: Vec<Option<Group>> = if g.zipf.is_none() && !per_token {
        vec![group(0, 1, keep / v as f64, 1), group(1, (v - 1) as u32, keep / v as f64, 2)]
    } else {
        (0..v).map(|t| group(t as u32, 1, keep * u[t], next(t))).collect()
    };
    let l = law(g.stop, groups);
    let mut states = vec![state("empty", "∅", 0.0, l.clone())];
    if per_token {
        for t in 0..v {
            states.push(state(&format!("last {}", letter(t as u32)), &letter(t as u32), f64::from(t == 0), l.clone()));
        }
    } else {
        states.push(state("last a", "a", 1.0, l.clone()));
        states.push(state("last other", OTHER, 0.0, l));
    }
    StateModel::new(g.name(), v, g.max_len, 0, states, 0)
}

pub fn reasoning(r: &Reasoning) -> Result<StateModel, ToyError> {
    let steps = (r.vocab - 2) as u32;
    let (root, chain, ans_a, ans_b) = (0, 1, 2, 3);
    let branch = |answer: f64, acc: f64| {
        law(
            0.0,
            [
                group(0, 1, answer * acc, ans_a),
                group(1, 1, answer * (1.0 - acc), ans_b),
                group(2, steps, (1.0 - answer) / steps as f64, chain),
            ],
        )
    };
    let mut chain_state = state("chain", "none", 0.0, branch(r.conclude, r.acc_cot));
    // One token before the cap the chain must conclude.
    chain_state.pieces.push((r.max_len - 1, branch(1.0, r.acc_cot)));
    let done = |name: &str, answer: &str, reward: f64| state(name, answer, reward, law(1.0, []));
    let states = vec![
        state("root", "none", 0.0, branch(r.p_direct, r.acc_direct)),
        chain_state,
        done("answered A", "A", 1.0),
        done("answered B", "B", 0.0),
    ];
    StateModel::new(r.name(), r.vocab, r.max_len, root, states, r.pad())
}

pub fn loop_family(f: &Loop) -> Result<StateModel, ToyError> {
    let wrong = f.vocab - 2;
    let per_token = wrong <= PER_TOKEN_STATES;
    let (root, looping, ans_a) = (0, 1, 2);
    let p_wrong = (1.0 - f.p_loop) * (1.0 - f.acc) / wrong as f64;
    let mut groups = vec![group(0, 1, f.p_loop, looping), group(1, 1, (1.0 - f.p_loop) * f.acc, ans_a)];
    if per_token {
        groups.extend((0..wrong).map(|k| group(2 + k as u32, 1, p_wrong, 3 + k)));
    } else {
        groups.push(group(2, wrong as u32, p_wrong, 3));
    }
    let done =
        |name: String, answer: String, reward: f64| State { name, answer, reward, pieces: vec![(0, law(1.0, []))] };
    let mut states = vec![
        state("root", "loop", 0.0, law(0.0, groups)),
        state("loop", "loop", 0.0, law(f.stop, [group(0, 1, 1.0 - f.stop, looping)])),
        done("answered A".into(), "A".into(), 1.0),
    ];
    if per_token {
        states.extend((0..wrong).map(|k| done(format!("answered W{}", k + 1), format!("W{}", k + 1), 0.0)));
    } else {
        states.push(done("answered wrong".into(), OTHER.into(), 0.0));
    }
    StateModel::new(f.name(), f.vocab, f.max_len, root, states, f.pad())
}

/// The state-space form of a named family (every current family has one).
pub fn from_spec(spec: &FamilySpec) -> Result<StateModel, ToyError> {
    let m = match &spec.kind {
        FamilyKind::Geometric(g) => geometric(g)?,
        FamilyKind::Reasoning(r) => reasoning(r)?,
        FamilyKind::Loop(l) => loop_family(l)?,
    };
    Ok(if spec.fixed_length { m.fixed_length() } else { m })
}
