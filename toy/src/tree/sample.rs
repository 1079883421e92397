//! Drawing complete sequences from token conditionals — the token-temperature sampler, or the
//! power target through its exact conditionals — one token at a time, as an LLM sampler would.

use super::model::{Policy, Tree};
use rand::Rng;

/// Walk from the root: at each prefix stop or move to a child with the policy's probabilities.
/// Returns the node where the sequence stops (its tokens: `tree.sequence(node)`).
pub fn sample(tree: &Tree, policy: &Policy, rng: &mut impl Rng) -> usize {
    let mut n = 0;
    loop {
        let mut u: f64 = rng.gen();
        let stop = policy.log_stop[n].exp();
        if u < stop || tree.children(n).is_empty() {
            return n;
        }
        u -= stop;
        let kids = tree.children(n);
        let last = kids.end - 1;
        n = kids
            .clone()
            .find(|&c| {
                let p = policy.log_edge[c].exp();
                let hit = u < p;
                u -= p;
                hit
            })
            .unwrap_or(last);
    }
}
