//! Token-level temperature 1/α: at every prefix sample from p(·|prefix)^α renormalised over the
//! tokens and EOS. It sharpens each step on its own and ignores what the step leads to — the
//! Z_α factor of the exact power conditionals ([`super::power`]).

use super::model::{Policy, Tree};
use super::power::pow_log;

/// The conditionals of the token-temperature sampler (at the cap, stopping stays certain).
pub fn temperature_conditionals(tree: &Tree, alpha: f64) -> Policy {
    let base = tree.base();
    let mut log_edge = vec![0.0; tree.len()];
    let mut log_stop = vec![f64::NEG_INFINITY; tree.len()];
    for (n, log_stop_n) in log_stop.iter_mut().enumerate() {
        let kids = tree.children(n);
        let stop = pow_log(alpha, base.log_stop[n]);
        let m = kids.clone().map(|c| alpha * base.log_edge[c]).fold(stop, f64::max);
        let s = (stop - m).exp() + kids.clone().map(|c| (alpha * base.log_edge[c] - m).exp()).sum::<f64>();
        let log_norm = m + s.ln();
        *log_stop_n = stop - log_norm;
        for c in kids {
            log_edge[c] = alpha * base.log_edge[c] - log_norm;
        }
    }
    Policy { log_edge, log_stop }
}
