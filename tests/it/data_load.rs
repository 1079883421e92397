//! Loading files in each layout, from small files written here (no data folder needed).

use sharpen::data::{load, DataError, Dataset};

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("sharpen-data-{}-{name}", std::process::id()));
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn each_layout_finds_its_gold_answer() {
    let files = [
        (Dataset::Gsm8k, r#"{"question": "q", "answer": "2+2=<<2+2=4>>4\n#### 4"}"#, "4"),
        (
            Dataset::Math,
            r#"{"problem": "p", "solution": "So $\\boxed{\\frac{1}{2}}$.", "unique_id": "test/x/1.json"}"#,
            "\\frac{1}{2}",
        ),
        (Dataset::Math500, r#"{"problem": "p", "solution": "\\boxed{3}", "answer": "3"}"#, "3"),
        (Dataset::Minerva, r#"{"problem": "p", "solution": "=\\boxed{1.6} \\mathrm{~cm}", "idx": 0}"#, "1.6"),
        (Dataset::Aime24, r#"{"id": 60, "problem": "p", "answer": "025"}"#, "025"),
        (Dataset::Amc23, r#"{"id": 1, "problem": "p", "answer": 27.0}"#, "27"),
        (Dataset::Amc23, r#"{"id": 2, "problem": "p", "answer": 2.5}"#, "2.5"),
    ];
    for (i, (ds, line, gold)) in files.iter().enumerate() {
        let path = temp_file(&format!("layout{i}.jsonl"), line);
        let loaded = load(*ds, &path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(loaded.problems.len(), 1, "{ds}");
        assert_eq!(loaded.problems[0].gold, *gold, "{ds}");
        assert_eq!(loaded.problems[0].problem, if *ds == Dataset::Gsm8k { "q" } else { "p" });
    }
}

#[test]
fn records_without_gold_are_counted_not_dropped_silently() {
    let content = [
        r#"{"problem": "a", "solution": "so \\boxed{1}"}"#,
        r#"{"problem": "b", "solution": "there are $\\boxed{}$ primes"}"#,
        "",
        r#"{"problem": "c", "solution": "no box at all"}"#,
        r#"{"problem": "d", "solution": "truncated \\boxed{12"}"#,
        r#"{"problem": "e"}"#,
    ]
    .join("\n");
    let path = temp_file("missing.jsonl", &content);
    let loaded = load(Dataset::Math, &path).unwrap();
    std::fs::remove_file(&path).ok();
    let s = &loaded.summary;
    assert_eq!((s.rows, s.loaded), (5, 1));
    assert_eq!(s.without_gold, vec![2, 4, 5, 6], "1-based line numbers of the records without gold");
    assert!(s.to_string().contains("4 without (lines 2, 4, 5, 6)"), "{s}");
    assert_eq!(loaded.problems[0].id, "math/1", "no unique_id: name/line");
}

#[test]
fn malformed_files_are_errors_with_line_numbers() {
    let path = temp_file("bad.jsonl", "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{not json\n");
    let err = load(Dataset::Gsm8k, &path).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert!(matches!(err, DataError::Json { line: 2, .. }), "{err}");

    let path = temp_file("layout.jsonl", "{\"problem\": \"p\", \"answer\": \"#### 1\"}\n");
    let err = load(Dataset::Gsm8k, &path).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert!(matches!(err, DataError::MissingField { line: 1, field: "question", .. }), "{err}");

    let err = load(Dataset::Math, std::path::Path::new("/nonexistent/x.jsonl")).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
}

#[test]
fn dataset_names_parse() {
    for ds in Dataset::ALL {
        assert_eq!(ds.name().parse::<Dataset>().unwrap(), ds);
    }
    assert_eq!("MATH-500".parse::<Dataset>().unwrap(), Dataset::Math500);
    assert!("mmlu".parse::<Dataset>().is_err());
}

#[test]
fn the_qwen3_layouts_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layouts");
    // DeepScaleR: one JSON array; the gold is `answer`; a record with an empty answer is counted.
    let ds = load(Dataset::Deepscaler, &dir.join("deepscaler/deepscaler.json")).unwrap();
    assert_eq!((ds.summary.rows, ds.summary.loaded, ds.summary.without_gold.clone()), (3, 2, vec![3]));
    assert_eq!(ds.problems[0].gold, "35");
    assert_eq!(ds.problems[1].gold, "\\frac{5}{6}");
    assert!(ds.problems[1].problem.starts_with("Find the value"));
    assert_eq!(ds.problems[0].id, "deepscaler/1");
    // AIME 2025 as opencompass/AIME2025: `question` and `answer`.
    let a = load(Dataset::Aime25, &dir.join("aime25/test.jsonl")).unwrap();
    assert_eq!(a.problems.len(), 2);
    assert_eq!((a.problems[0].gold.as_str(), a.problems[1].gold.as_str()), ("70", "588"));
    assert!(a.problems[0].problem.starts_with("Find the sum of all integer bases"));
    // The array form reports a malformed file as a JSON error too.
    let path = temp_file("broken.json", "[{\"problem\": \"p\", \"answer\": \"1\"},");
    assert!(matches!(load(Dataset::Deepscaler, &path), Err(DataError::Json { .. })));
    std::fs::remove_file(&path).ok();
}
