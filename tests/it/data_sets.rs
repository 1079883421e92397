//! The datasets shipped in data/ load with their expected row counts and gold answers, and the
//! verifier agrees with MATH-500's own `answer` field. A missing data folder fails, never skips.

use sharpen::data::{load, Dataset};
use sharpen::verify::{is_equiv, last_boxed, task_reward};

fn data() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    assert!(dir.join("math500").is_dir(), "the repository's data folder is missing at {}", dir.display());
    dir
}

#[test]
fn every_shared_dataset_loads_with_its_row_count() {
    let dir = data();
    // (dataset, split, rows, records without a gold answer). The two in MATH train are genuinely
    // empty boxes (`there are $\boxed{}$ primes`, train lines 5342 and 5344).
    let expected = [
        (Dataset::Gsm8k, "train", 7473, 0),
        (Dataset::Gsm8k, "test", 1319, 0),
        (Dataset::Math, "train", 7500, 2),
        (Dataset::Math, "test", 5000, 0),
        (Dataset::Math500, "test", 500, 0),
        (Dataset::Minerva, "test", 272, 0),
        (Dataset::Aime24, "test", 30, 0),
        (Dataset::Amc23, "test", 40, 0),
    ];
    for (ds, split, rows, missing) in expected {
        let loaded = load(ds, &ds.default_path(&dir, split)).unwrap();
        let s = &loaded.summary;
        eprintln!("{split}: {s}");
        assert_eq!(s.rows, rows, "{s}");
        assert_eq!(s.loaded + s.without_gold.len(), s.rows, "every record is loaded or counted: {s}");
        assert_eq!(s.without_gold.len(), missing, "{s}");
        assert_eq!(loaded.problems.len(), s.loaded);
        assert!(loaded.problems.iter().all(|p| !p.gold.is_empty() && !p.problem.is_empty()));
        // Every real gold answer, boxed in a response, earns the reward (no normalisation
        // makes a real answer unequal to itself).
        let unmatched: Vec<&str> = loaded
            .problems
            .iter()
            .filter(|p| task_reward(&format!("The answer is $\\boxed{{{}}}$.", p.gold), &p.gold) != 1.0)
            .map(|p| p.gold.as_str())
            .collect();
        assert!(unmatched.is_empty(), "{ds}/{split}: {unmatched:?}");
        // `<gold>+1` is not the gold, except for the few golds where the authors' Math-Verify
        // call itself accepts it (checked against the reference; see KNOWN_PLUS_ONE).
        let close_accepted: Vec<&str> = loaded
            .problems
            .iter()
            .map(|p| p.gold.as_str())
            .filter(|g| is_equiv(&format!("{g}+1"), g) && !KNOWN_PLUS_ONE.contains(g))
            .collect();
        assert!(close_accepted.is_empty(), "{ds}/{split}: answer+1 accepted for {close_accepted:?}");
        let ids: std::collections::HashSet<&str> = loaded.problems.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), loaded.problems.len(), "ids are unique in {ds}/{split}");
    }
}

/// Golds for which Math-Verify with the authors' call scores `\boxed{<gold>+1}` as correct
/// (a trailing full stop or `\approx` makes the gold parse to something else, or the gold does
/// not parse and a bare fraction inside it is compared): quirks of the reward, kept on purpose.
const KNOWN_PLUS_ONE: &[&str] = &[
    "-\\frac{5}{3}.",
    "\\$\\dfrac23 \\approx \\$0.67",
    "\\frac{7}{5} + \\frac{1}{5} i.",
    "\\frac{1}{3} E_{1}+\\frac{2}{3} E_{2}",
];

/// MATH-500 golds written with thousands separators: spaced out as `58 , 500` they are a set for
/// the authors' call, so the rewriting below misses them there too.
const KNOWN_REWRITE_MISSES: &[&str] = &["10,\\!080", "11,\\! 111,\\! 111,\\! 100", "\\$32,\\!348", "58,500"];

#[test]
fn gold_answers_match_known_records() {
    let dir = data();
    let first = |ds: Dataset, split: &str| load(ds, &ds.default_path(&dir, split)).unwrap().problems.remove(0);
    assert_eq!(first(Dataset::Gsm8k, "test").gold, "18");
    assert_eq!(first(Dataset::Math, "test").gold, "2");
    assert_eq!(first(Dataset::Math500, "test").gold, "\\left( 3, \\frac{\\pi}{2} \\right)");
    assert_eq!(first(Dataset::Minerva, "test").gold, "1.6");
    assert_eq!(first(Dataset::Aime24, "test").gold, "204");
    assert_eq!(first(Dataset::Amc23, "test").gold, "27", "JSON number 27.0 becomes 27");
}

/// Extract the gold from MATH-500's `solution` as from a response (the whole extraction path
/// of `task_reward`) and compare it with the dataset's own `answer` field: at least 98% agree.
/// (In this copy the `answer` field is the last box verbatim, so this checks extraction and
/// reflexivity; the next two checks test normalisation and discrimination on the same answers.)
#[test]
fn verifier_agrees_with_math500_answers() {
    let dir = data();
    let text = std::fs::read_to_string(dir.join("math500/test.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 500);
    let mut disagree = Vec::new();
    for v in &rows {
        let answer = v["answer"].as_str().unwrap();
        let solution = v["solution"].as_str().unwrap();
        if task_reward(solution, answer) != 1.0 {
            disagree.push(format!("{:?} vs {answer:?}", last_boxed(solution)));
        }
    }
    let rate = 1.0 - disagree.len() as f64 / rows.len() as f64;
    eprintln!("MATH-500 agreement {rate:.4} ({} of {} disagree)\n{}", disagree.len(), rows.len(), disagree.join("\n"));
    assert!(rate >= 0.98, "agreement {rate:.4} < 0.98");

    // Rewritten the way models write: \dfrac, spaces around commas, a `$...$` and a full stop.
    let mut missed = Vec::new();
    for v in &rows {
        let answer = v["answer"].as_str().unwrap();
        let rewritten = answer.replace("\\frac", "\\dfrac").replace(',', " , ");
        let response = format!("Therefore the answer is $\\boxed{{ {rewritten} }}$.");
        if task_reward(&response, answer) != 1.0 && !KNOWN_REWRITE_MISSES.contains(&answer) {
            missed.push(format!("{rewritten:?} vs {answer:?}"));
        }
    }
    eprintln!("rewritten answers missed: {}\n{}", missed.len(), missed.join("\n"));
    assert!(missed.is_empty());

    // A wrong answer that looks close (`<answer>+1`) is never accepted.
    let accepted: Vec<&str> =
        rows.iter().map(|v| v["answer"].as_str().unwrap()).filter(|a| is_equiv(&format!("{a}+1"), a)).collect();
    assert!(accepted.is_empty(), "accepted answer+1: {accepted:?}");
}

#[test]
fn the_data_folder_is_found_at_run_time() {
    let run = |cwd: &std::path::Path, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sharpen"))
            .args(["data", "--dataset", "math500", "--show", "1"])
            .args(args)
            .current_dir(cwd)
            .env_remove("SHARPEN_DATA")
            .output()
            .unwrap()
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // From anywhere inside the repository: its data/ folder.
    let o = run(&repo.join("src/data"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("math500: 500 rows"));
    // Outside any repository: a one-line error, unless --data-dir names the folder.
    let outside = std::env::temp_dir();
    let o = run(&outside, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no data folder") && err.trim_end().lines().count() == 1, "{err}");
    let dir = repo.join("data");
    let o = run(&outside, &["--data-dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
