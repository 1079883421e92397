//! `sharpen toy …`: the exact module on the command line.

use crate::cli::{SolveArgs, TreeArgs};
use crate::problem::read_problem;
use crate::table::{render_report, render_table};
use anyhow::{bail, Result};
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

/// Write to stdout; a reader that goes away early (`| head`) is not an error.
fn emit(text: &str) -> Result<()> {
    use std::io::{ErrorKind, Write};
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
