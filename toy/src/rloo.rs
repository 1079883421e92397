//! The leave-one-out (RLOO) advantage, shared by the toy trainer and the LLM trainer.
//!
//! For a group of K responses to one prompt, response i's baseline is the mean reward of the
//! other K − 1: A_i = r_i − (Σ_{j≠i} r_j)/(K − 1) = K/(K − 1)·(r_i − r̄). The baseline does not
//! depend on y_i, so E[A_i ∇log π(y_i)] = E[r(y_i) ∇log π(y_i)]: the estimator stays unbiased.
//! No division by the group's standard deviation (the paper's trainer does not normalise), so
//! the advantage keeps the reward's scale — nats for likelihood rewards, [−1, 1] for a 0/1 reward.

/// Leave-one-out advantages of one group. A group of fewer than two responses has no baseline
/// and no learning signal: every advantage is 0.
pub fn leave_one_out(rewards: &[f64]) -> Vec<f64> {
    let k = rewards.len();
    if k < 2 {
        return vec![0.0; k];
    }
    let total: f64 = rewards.iter().sum();
    let others = (k - 1) as f64;
    rewards.iter().map(|&r| r - (total - r) / others).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn hand_computed_groups() {
        // 0/1 rewards, K = 4, one correct: 1 − 0 = 1; 0 − 1/3.
        close(&leave_one_out(&[1.0, 0.0, 0.0, 0.0]), &[1.0, -1.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0]);
        // K = 2: each response is compared with the other one.
        close(&leave_one_out(&[0.3, -1.2]), &[1.5, -1.5]);
        // Log-likelihood rewards in nats, K = 3: −2 − (−5 − 8)/2 = 4.5; −5 − (−10)/2 = 0; −8 − (−7)/2 = −4.5.
        close(&leave_one_out(&[-2.0, -5.0, -8.0]), &[4.5, 0.0, -4.5]);
    }

    #[test]
    fn equal_rewards_give_zero_advantages() {
        close(&leave_one_out(&[0.7; 8]), &[0.0; 8]);
        close(&leave_one_out(&[-41.5; 3]), &[0.0; 3]);
    }

    #[test]
    fn matches_scaled_centering_and_sums_to_zero() {
        let r = [0.1, 2.0, -3.0, 0.5, 7.25];
        let k = r.len() as f64;
        let mean = r.iter().sum::<f64>() / k;
        let expected: Vec<f64> = r.iter().map(|x| k / (k - 1.0) * (x - mean)).collect();
        let a = leave_one_out(&r);
        close(&a, &expected);
        assert!(a.iter().sum::<f64>().abs() < 1e-12);
    }

    #[test]
    fn degenerate_groups() {
        assert!(leave_one_out(&[]).is_empty());
        close(&leave_one_out(&[5.0]), &[0.0]);
    }
}
