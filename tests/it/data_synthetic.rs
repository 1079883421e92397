//! The synthetic arithmetic task and the prompt (no data folder needed).

use sharpen::data::{arithmetic, cot_messages, cot_prompt, MAX_DIFFICULTY};
use sharpen::verify::task_reward;

#[test]
fn same_seed_same_problems_other_seed_other_problems() {
    let a = arithmetic(50, 4, 7).unwrap();
    assert_eq!(a, arithmetic(50, 4, 7).unwrap());
    assert_ne!(a, arithmetic(50, 4, 8).unwrap());
    assert_eq!(a[..10], arithmetic(10, 4, 7).unwrap()[..], "a prefix does not depend on n");
}

/// Re-evaluate every generated expression independently (a shunting-free two-pass evaluator over
/// the printed text) and check its gold answer.
#[test]
fn gold_answers_are_the_values_of_the_printed_expressions() {
    for d in 1..=MAX_DIFFICULTY {
        for p in arithmetic(40, d, 1000 + d as u64).unwrap() {
            let expr = p.problem.strip_prefix("What is ").unwrap().strip_suffix('?').unwrap();
            let tokens: Vec<&str> = expr.split(' ').collect();
            assert_eq!(tokens.len(), 2 * d as usize + 1, "{d} -> {} operands", d + 1);
            // Collapse products, then sum with signs.
            let mut sum = 0i64;
            let mut sign = 1i64;
            let mut prod: i64 = tokens[0].parse().unwrap();
            for pair in tokens[1..].chunks(2) {
                let v: i64 = pair[1].parse().unwrap();
                match pair[0] {
                    "*" => prod *= v,
                    op => {
                        sum += sign * prod;
                        sign = if op == "+" { 1 } else { -1 };
                        prod = v;
                    }
                }
            }
            sum += sign * prod;
            assert_eq!(p.gold, sum.to_string(), "{}", p.problem);
            assert_eq!(task_reward(&format!("so \\boxed{{{sum}}}"), &p.gold), 1.0);
            if d < 3 {
                assert!(!expr.contains('*'), "no products below difficulty 3");
            }
        }
    }
}

#[test]
fn difficulty_grows_operands_and_range() {
    let max_operand = |d: u32| {
        arithmetic(200, d, 3)
            .unwrap()
            .iter()
            .flat_map(|p| {
                p.problem.split(' ').filter_map(|t| t.trim_end_matches('?').parse::<i64>().ok()).collect::<Vec<_>>()
            })
            .max()
            .unwrap()
    };
    assert!(max_operand(1) <= 10 && max_operand(8) > 10 && max_operand(8) <= 80);
    assert!(arithmetic(1, 0, 0).is_err() && arithmetic(1, MAX_DIFFICULTY + 1, 0).is_err());
}

#[test]
fn the_paper_prompt_wraps_the_problem() {
    let p = cot_prompt("What is 2 + 2?");
    assert_eq!(
        p,
        "Think step-by-step to solve the following problem. Output your answer inside of \\\\boxed{} tags.:\n\
         What is 2 + 2?\n\nLet's think step-by-step"
    );
    // The bytes of the authors' cot.txt after Python's str.format, rendered by Python.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prompt");
    let problem = std::fs::read_to_string(dir.join("problem.txt")).unwrap();
    let expected = std::fs::read(dir.join("cot_expected.txt")).unwrap();
    assert_eq!(cot_prompt(&problem).as_bytes(), expected.as_slice());
    let m = cot_messages("What is 2 + 2?");
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].role.as_str(), m[0].content.as_str()), ("user", p.as_str()));
}
