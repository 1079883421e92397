//! The token-by-token sampler reproduces the exact sequence laws it is given, deterministically
//! for a seed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sharpen_toy::tree::dp::{sequence_log_probs, summarize};
use sharpen_toy::tree::power::power_conditionals;
use sharpen_toy::tree::sample::sample;
use sharpen_toy::tree::temperature::temperature_conditionals;
use sharpen_toy::tree::{FamilyOptions, FamilySpec};

#[test]
fn sampled_lengths_match_the_exact_law() {
    let tree = FamilySpec::parse("reasoning", &FamilyOptions::default()).unwrap().build(100_000).unwrap();
    for policy in [temperature_conditionals(&tree, 2.0), power_conditionals(&tree, 2.0)] {
        let exact = summarize(&tree, &sequence_log_probs(&tree, &policy));
        let n = 40_000;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut freq = vec![0.0; tree.max_len() + 1];
        let mut correct = 0.0;
        for _ in 0..n {
            let node = sample(&tree, &policy, &mut rng);
            freq[tree.depth(node)] += 1.0 / n as f64;
            correct += tree.reward(node) / n as f64;
        }
        for (f, p) in freq.iter().zip(&exact.length_pmf) {
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            assert!((f - p).abs() < 5.0 * sd + 1e-4, "sampled {freq:?} exact {:?}", exact.length_pmf);
        }
        let sd = (exact.accuracy * (1.0 - exact.accuracy) / n as f64).sqrt();
        assert!((correct - exact.accuracy).abs() < 5.0 * sd);
    }
    let policy = temperature_conditionals(&tree, 2.0);
    let draw = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..50).map(|_| sample(&tree, &policy, &mut rng)).collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}
