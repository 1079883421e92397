//! `sharpen toy …`: the exact module on the command line.

use crate::cli::{CalibrateArgs, SolveArgs, TreeArgs};
use crate::problem::read_problem;
use crate::table::{render_report, render_table};
use anyhow::{bail, Context, Result};
use sharpen_toy::report::Table;
use sharpen_toy::{row, scenarios};

pub fn solve(args: &SolveArgs) -> Result<()> {
    let regime = args.regime.regime()?;
    let bandit = read_problem(&args.problem)?;
    let sol = bandit.solve(&regime);
    if args.json {
        println!("{}", serde_json::to_string(&sol)?);
        return Ok(());
    }
    let mut t = Table::new(
        format!("{regime}: target over the responses"),
        &["response", "answer", "reward", "length", "π_ref", "target"],
    );
    for (i, (r, q)) in bandit.responses().iter().zip(&sol.target).enumerate() {
        t.push(row![i, r.answer.as_str(), r.reward, r.length, r.prob, *q]);
    }
    print!("{}", render_table(&t));
    println!("expected reward {:.6}, expected length {:.4}", sol.expected_reward, sol.expected_length);
    if !sol.argmax.is_empty() {
        println!("argmax set (optimization mode maximisers): {:?}", sol.argmax);
    }
    Ok(())
}

pub fn scenario(name: &str, json: bool) -> Result<()> {
    let Some(s) = scenarios::find(name) else {
        let names: Vec<_> = scenarios::all().iter().map(|s| s.name).collect();
        bail!("unknown scenario '{name}' (known: {})", names.join(", "));
    };
    let report = (s.run)();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", render_report(&report));
    }
    Ok(())
}

pub fn list() -> Result<()> {
    for s in scenarios::all() {
        println!("{:<16} {}", s.name, s.summary);
    }
    Ok(())
}

pub fn tree(args: &TreeArgs) -> Result<()> {
    use sharpen_toy::regime::PAPER_ALPHAS;
    use sharpen_toy::tree::report::{analyze, to_report, Method, TreeQuery};
    use sharpen_toy::tree::{FamilyOptions, FamilySpec};
    let options = FamilyOptions {
        vocab: args.vocab,
        max_len: args.max_len,
        stop: args.stop,
        zipf: args.zipf,
        p_direct: args.p_direct,
        acc_direct: args.acc_direct,
        acc_cot: args.acc_cot,
        p_loop: args.p_loop,
        acc: args.acc,
    };
    let spec = FamilySpec::parse(&args.family, &options)?;
    let query = TreeQuery {
        alphas: if args.alphas.is_empty() { PAPER_ALPHAS.to_vec() } else { args.alphas.clone() },
        mode: args.shape.mode()?,
        beta_inv: args.shape.beta_inv,
        normalization: args.shape.normalization()?,
        max_nodes: args.max_prefixes.unwrap_or(sharpen_toy::tree::DEFAULT_MAX_NODES),
        method: match (args.solver.as_str(), args.max_prefixes) {
            ("auto", None) => Method::Auto,
            ("auto", Some(_)) | ("tree", _) => Method::Tree,
            ("state-space", _) => Method::StateSpace,
            (other, _) => bail!("unknown solver '{other}' (expected one of: auto, tree, state-space)"),
        },
    };
    let result = analyze(&spec, &query)?;
    if args.json {
        emit(&(serde_json::to_string(&result)? + "\n"))
    } else {
        emit(&render_report(&to_report(&result)))
    }
}

/// `sharpen toy calibrate`: read samples, estimate the hazard and entropy per position, fit the
/// state-space model and predict π_ref^α's length law and α*.
pub fn calibrate(args: &CalibrateArgs) -> Result<()> {
    use sharpen_toy::regime::PAPER_ALPHAS;
    use sharpen_toy::statespace::calibrate::{fit, predict, profile, Sample};
    let text = std::fs::read_to_string(&args.samples).with_context(|| format!("{}", args.samples.display()))?;
    let mut samples = Vec::new();
    let mut cap_seen = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{} line {}", args.samples.display(), i + 1);
        let v: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        let nums = |key: &str| -> Result<Vec<f64>> {
            v[key]
                .as_array()
                .with_context(|| format!("{}: no '{key}' array", at()))?
                .iter()
                .map(|x| x.as_f64().with_context(|| format!("{}: '{key}' holds a non-number", at())))
                .collect()
        };
        let (tokens, logprobs) = (nums("tokens")?, nums("logprobs")?);
        let eos = match v["stop"].as_str() {
            Some("eos") => true,
            Some("length") => false,
            _ => bail!("{}: 'stop' must be \"eos\" or \"length\"", at()),
        };
        if logprobs.len() != tokens.len() || (eos && tokens.is_empty()) {
            bail!("{}: {} tokens but {} log-probs", at(), tokens.len(), logprobs.len());
        }
        // With EOS the last token is the EOS itself; the response length leaves it out.
        let length = tokens.len() - usize::from(eos);
        cap_seen = cap_seen.max(length + usize::from(eos));
        samples.push(Sample { length, eos, token_logprobs: logprobs[..length].to_vec() });
    }
    let max_len = args.max_len.unwrap_or(cap_seen);
    let alphas = if args.alphas.is_empty() { PAPER_ALPHAS.to_vec() } else { args.alphas.clone() };
    let p = profile(&samples, max_len, args.min_count)?;
    let model = fit(&p, args.vocab)?;
    let pred = predict(&model, &p, &alphas)?;
    if args.json {
        let v = serde_json::json!({ "samples": samples.len(), "profile": p, "prediction": pred });
        return emit(&(v.to_string() + "\n"));
    }
    let mut t = Table::new(
        format!(
            "Predicted length of π_ref^α ({} samples, cap {max_len}, tail pooled from position {})",
            samples.len(),
            p.tail_from
        ),
        &["alpha", "mean L", "P(L = cap)"],
    );
    for ((a, m), c) in pred.alphas.iter().zip(&pred.mean_length).zip(&pred.cap_mass) {
        t.push(row![*a, *m, *c]);
    }
    let star = |x: Option<f64>| x.map_or_else(|| "— (no crossing in (0, 1))".to_string(), |a| format!("{a:.6}"));
    let mut out = render_table(&t);
    out += &format!(
        "tail hazard {:.5}, tail token entropy {:.4} nats\nα* (tail, log c(α) = 0, entropy-matched fit): {}\nα* (tail, Σu^α from the sampled tokens): {}\nα with half the mass at the cap: {}\n",
        pred.tail_hazard,
        pred.tail_entropy,
        star(pred.alpha_star),
        star(pred.alpha_star_sampled),
        star(pred.alpha_half_cap)
    );
    out += "caveat: the fit matches the Shannon entropy per position; π^α weighs Σp^α (a Rényi entropy), and the state is the position only.\n";
    emit(&out)
}

/// Write to stdout; a reader that goes away early (`| head`) is not an error.
fn emit(text: &str) -> Result<()> {
    use std::io::{ErrorKind, Write};
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
