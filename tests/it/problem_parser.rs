//! The problem parser never panics, whatever the bytes.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = sharpen::problem::parse_problem(&bytes);
    }

    #[test]
    fn arbitrary_json_shaped_input_never_panics(
        probs in prop::collection::vec(prop_oneof![any::<f64>(), -2.0f64..2.0], 0..6),
        rewards in prop::collection::vec(prop_oneof![any::<f64>(), -1.0f64..2.0], 0..6),
        lens in prop::collection::vec(any::<i64>(), 0..6),
    ) {
        let items: Vec<String> = probs.iter().zip(&rewards).zip(&lens).map(|((p, r), l)| {
            format!(r#"{{"prob": {p:?}, "reward": {r:?}, "length": {l}, "answer": "x"}}"#)
        }).collect();
        let json = format!(r#"{{"responses": [{}]}}"#, items.join(","));
        let _ = sharpen::problem::parse_problem(json.as_bytes());
    }
}
