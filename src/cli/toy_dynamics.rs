//! `sharpen toy train` and `sharpen toy flow`: T7's stochastic runs and exact flows on the
//! command line, with per-seed JSONL run logs in the shared schema.

use super::table::render_table;
use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use sharpen::problem::read_problem;
use sharpen_analysis::runlog::{LengthSummary, Record, RunHeader, RunLogWriter, StepRecord};
use sharpen_toy::dynamics::estimator::LossAggregation;
use sharpen_toy::dynamics::fixed_points::fixed_points;
use sharpen_toy::dynamics::flow::exact_flow_to;
use sharpen_toy::dynamics::summary::{every_fraction, final_summary, per_step};
use sharpen_toy::dynamics::t7::closed_form_target;
use sharpen_toy::dynamics::train::SeedRun;
use sharpen_toy::dynamics::{train_seeds, Objective, TabularBandit, TabularTree, TrainConfig, Trainable};
use sharpen_toy::report::Table;
use sharpen_toy::tree::{FamilyOptions, FamilySpec, DEFAULT_MAX_NODES};
use sharpen_toy::{problems, row, Bandit};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Problem: many-paths, near-tie, near-tie:GAP, small-four, a JSON problem file, or a tabular
    /// autoregressive tree tree:FAMILY (geometric, reasoning, loop, fixed-length[:FAMILY]).
    pub scenario: String,
    /// task | sharpening | control | tempered:ALPHA | tilted:ALPHA:BETA_INV | self-certainty
    #[arg(long)]
    pub regime: String,
    /// Trees only: never sample EOS, roll out to the length cap (the paper's fixed-length runs);
    /// P and the gradient still use the full softmax, EOS included.
    #[arg(long = "ignore-eos")]
    pub ignore_eos: bool,
    /// Number of seeds (independent runs, trained in parallel).
    #[arg(long, default_value_t = 64)]
    pub seeds: usize,
    /// Optimiser steps per seed.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Peak learning rate of AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01).
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// K: rollouts per prompt (one leave-one-out group).
    #[arg(long, default_value_t = 8)]
    pub samples: usize,
    /// Prompts (RLOO groups) per optimiser step.
    #[arg(long, default_value_t = 4)]
    pub prompts: usize,
    /// Linear warm-up steps from 0.1× to 1× the learning rate [default: steps / 10].
    #[arg(long)]
    pub warmup: Option<usize>,
    /// token (Σ over the batch's tokens / number of tokens, the paper's) | sequence (per rollout).
    #[arg(long, default_value = "token")]
    pub loss: String,
    /// Gradient-norm clipping threshold.
    #[arg(long = "max-grad-norm", default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Base seed; seed i uses stream i of ChaCha8 seeded with it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object (config, per-step summaries, final summary) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write one JSONL run log per seed into DIR (header record, then one record per step).
    #[arg(long = "log-dir")]
    pub log_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FlowArgs {
    /// Problem: many-paths, near-tie, near-tie:GAP, small-four, or a JSON problem file.
    pub scenario: String,
    /// task | sharpening | control | tempered:ALPHA | tilted:ALPHA:BETA_INV | self-certainty
    #[arg(long)]
    pub regime: String,
    /// Integrate the flow up to this time.
    #[arg(long = "t-end", default_value_t = 1e6)]
    pub t_end: f64,
    /// Enumerate every face when the problem has at most this many responses; otherwise the
    /// vertices and the nested faces of π_ref's top-k responses.
    #[arg(long = "max-faces", default_value_t = 10)]
    pub max_faces: usize,
    /// Print one JSON object (flow, closed form, fixed points) instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// A named problem (see `problems::problem`) or a JSON problem file.
pub fn load_problem(name: &str) -> Result<Bandit> {
    if let Some(b) = problems::problem(name) {
        return Ok(b);
    }
    let path = Path::new(name);
    if path.exists() {
        return read_problem(path);
    }
    bail!("unknown problem '{name}' (known: {}, or a JSON problem file)", problems::PROBLEMS.join(", "))
}

pub fn train(a: &TrainArgs) -> Result<()> {
    let objective: Objective = a.regime.parse()?;
    if a.log_dir.is_some() && objective.regime().is_none() {
        bail!("--log-dir: run logs record a Regime and '{objective}' is not a point of the regime table");
    }
    if a.samples < 2 {
        bail!("--samples must be at least 2 (the leave-one-out baseline needs two rollouts per prompt)");
    }
    if !(a.lr.is_finite() && a.lr > 0.0) {
        bail!("--lr must be a positive number, got {}", a.lr);
    }
    if a.seeds == 0 || a.steps == 0 || a.prompts == 0 {
        bail!("--seeds, --steps and --prompts must be at least 1");
    }
    let aggregation: LossAggregation = a.loss.parse()?;
    let mut cfg = TrainConfig::paper(a.steps, a.lr);
    cfg.samples_per_prompt = a.samples;
    cfg.prompts_per_step = a.prompts;
    cfg.warmup = a.warmup.unwrap_or(a.steps / 10);
    cfg.aggregation = aggregation;
    cfg.max_grad_norm = a.max_grad_norm;
    cfg.base_seed = a.seed;
    if let Some(family) = a.scenario.strip_prefix("tree:") {
        let tree = FamilySpec::parse(family, &FamilyOptions::default())?.build(DEFAULT_MAX_NODES)?;
        let model = TabularTree::new(tree, objective, a.ignore_eos)?;
        let t = model.tree();
        let describe = |n: usize| {
            let seq: Vec<String> = t.sequence(n).iter().map(|v| v.to_string()).collect();
            (format!("[{}]", seq.join(" ")), t.answer(n).unwrap_or("").to_string(), t.reward(n))
        };
        return run(a, objective, &cfg, &model, &describe);
    }
    if a.ignore_eos {
        bail!("--ignore-eos applies to tree problems (tree:FAMILY), not to finite response sets");
    }
    let model = TabularBandit::new(load_problem(&a.scenario)?, objective)?;
    let b = model.bandit();
    let describe = |i: usize| {
        let r = &b.responses()[i];
        (format!("{i} (π_ref {:.4})", r.prob), r.answer.clone(), r.reward)
    };
    run(a, objective, &cfg, &model, &describe)
}

/// Train every seed, write the logs, print the summary.
fn run(
    a: &TrainArgs,
    objective: Objective,
    cfg: &TrainConfig,
    model: &impl Trainable,
    describe: &dyn Fn(usize) -> (String, String, f64),
) -> Result<()> {
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(a.seeds as u64),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} seeds ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {}", objective, a.scenario));
    let runs = train_seeds(model, cfg, a.seeds, threads, &|| bar.inc(1));
    bar.finish_and_clear();

    if let Some(dir) = &a.log_dir {
        for r in &runs {
            write_log(dir, a, objective, cfg, r)?;
        }
    }
    let steps = per_step(&runs);
    let last = final_summary(&runs);
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&json!({"objective": objective, "config": cfg, "per_step": steps, "final": last}))?
        );
        return Ok(());
    }
    let mut t = Table::new(
        format!(
            "{} on {}{}: {} seeds × {} steps, K = {} × {} prompts, {} loss, AdamW lr {}, warm-up {}, clip {}",
            objective,
            a.scenario,
            if a.ignore_eos { " (EOS ignored)" } else { "" },
            a.seeds,
            a.steps,
            a.samples,
            a.prompts,
            a.loss,
            a.lr,
            cfg.warmup,
            a.max_grad_norm
        ),
        &[
            "step",
            "acc mean",
            "acc q10",
            "acc q50",
            "acc q90",
            "len mean",
            "len q50",
            "reward mean",
            "reward q10",
            "reward q90",
            "clip rate",
        ],
    );
    for s in every_fraction(&steps, 0.1) {
        t.push(row![
            s.step,
            s.accuracy.mean,
            s.accuracy.q10,
            s.accuracy.q50,
            s.accuracy.q90,
            s.length.mean,
            s.length.q50,
            s.reward.mean,
            s.reward.q10,
            s.reward.q90,
            s.clip_rate
        ]);
    }
    print!("{}", render_table(&t));
    let mut f = Table::new("After the last step (exact, per seed)", &["quantity", "mean", "q10", "q50", "q90"]);
    for (name, q) in [
        ("accuracy", last.accuracy),
        ("expected length", last.length),
        ("objective E_π[r]", last.objective),
        ("entropy (nats)", last.entropy),
        ("fraction of steps clipped", last.clip_fraction),
    ] {
        f.push(row![name, q.mean, q.q10, q.q50, q.q90]);
    }
    print!("\n{}", render_table(&f));
    let mut m = Table::new("Final most likely response", &["response", "answer", "reward", "seeds"]);
    for (&i, &n) in &last.modes {
        let (label, answer, reward) = describe(i);
        m.push(row![label, answer, reward, n]);
    }
    print!("\n{}", render_table(&m));
    println!("seeds within 0.01 of a vertex: {:.3}", last.at_vertex);
    Ok(())
}

fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect()
}

/// One JSONL log per seed: a `run` header, then one `step` record per step. Written to a
/// temporary file and renamed, so a log on disk is always complete.
fn write_log(dir: &Path, a: &TrainArgs, objective: Objective, cfg: &TrainConfig, run: &SeedRun) -> Result<PathBuf> {
    let regime = objective.regime().expect("checked by the caller");
    let scenario = a.scenario.as_str();
    let eos = if a.ignore_eos { "-ignore-eos" } else { "" };
    let name = format!("{}-{}{eos}-seed{:03}.jsonl", slug(scenario), slug(&a.regime), run.seed_index);
    let path = dir.join(&name);
    let mut config: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    config.insert("trainer".into(), serde_json::to_value(cfg)?);
    config.insert("base_seed".into(), json!(cfg.base_seed));
    // Read back by `sharpen check`, which groups fixed-length runs apart (P5).
    config.insert("ignore_eos".into(), json!(a.ignore_eos));
    config.insert("val_accuracy".into(), json!("exact E_π[r] of the policy that sampled the step"));
    let header =
        RunHeader { source: "toy".into(), model: scenario.into(), regime, seed: run.seed_index as u64, config };
    let write = |tmp: &Path| -> std::io::Result<()> {
        let mut w = RunLogWriter::open(tmp, false)?;
        w.write(&Record::Run(header))?;
        for s in &run.steps {
            w.write(&Record::Step(StepRecord {
                step: s.step as u64,
                task_reward: s.batch_accuracy,
                regime_reward: s.reward,
                advantage: s.advantage,
                length: LengthSummary {
                    mean: s.length.mean,
                    min: s.length.min,
                    max: s.length.max,
                    clipped_fraction: 0.0,
                },
                ref_logprob: s.ref_logprob,
                policy_logprob: s.policy_logprob,
                sampler_logprob: None,
                entropy: s.token_entropy,
                kl_ref: s.kl_ref,
                grad_norm: s.grad_norm,
                clipped: s.clipped,
                lr: s.lr,
                val_accuracy: Some(s.exact.accuracy),
                // Toy runs are deterministic; wall time would make two identical runs differ.
                wall_time_s: 0.0,
                self_certainty: None,
                token_entropy: None,
                majority_agreement: None,
                majority_accuracy: None,
            }))?;
        }
        Ok(())
    };
    sharpen_analysis::atomic::write_with(&path, write).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

pub fn flow(a: &FlowArgs) -> Result<()> {
    let objective: Objective = a.regime.parse()?;
    if !(a.t_end.is_finite() && a.t_end > 0.0) {
        bail!("--t-end must be a positive number, got {}", a.t_end);
    }
    if a.scenario.starts_with("tree:") {
        bail!("toy flow works on finite response sets; tree problems are for toy train");
    }
    let bandit = load_problem(&a.scenario)?;
    let model = TabularBandit::new(bandit.clone(), objective)?;
    let flow = exact_flow_to(&model, a.t_end);
    let target = closed_form_target(&bandit, &objective);
    let fps = fixed_points(&model, a.max_faces);
    if a.json {
        println!(
            "{}",
            serde_json::to_string(
                &json!({"objective": objective, "flow": flow, "closed_form": target, "fixed_points": fps})
            )?
        );
        return Ok(());
    }
    let base = bandit.base();
    let mode = (0..base.len()).max_by(|&x, &y| base[x].total_cmp(&base[y]).then(y.cmp(&x))).unwrap_or(0);
    let mut t = Table::new(
        format!("Exact flow of {objective} on {} from π_ref", a.scenario),
        &["t", "accuracy", "expected length", "entropy", "P(π_ref mode)", "E_π[r]", "‖G‖"],
    );
    for p in flow.points.iter().step_by(2).chain(flow.points.last()) {
        t.push(row![p.t, p.accuracy, p.expected_length, p.entropy, p.policy[mode], p.objective, p.gradient_norm]);
    }
    print!("{}", render_table(&t));
    let err = flow.end().policy.iter().zip(&target).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    println!(
        "closed form: accuracy {:.6}; max |π_end − π*| = {err:.3e}{}",
        bandit.expected_reward(&target),
        if flow.completed { "" } else { " (integrator ran out of steps)" }
    );
    let mut f = Table::new(
        "Fixed points (internal: Jacobian on the face, gauge removed; transverse: invasion rate r_y − r̄)",
        &["support", "accuracy", "stability", "internal eigenvalues", "transverse rates"],
    );
    for fp in &fps {
        let support: Vec<String> = fp.support.iter().map(|i| i.to_string()).collect();
        let fmt = |v: &[f64]| -> String {
            match v {
                [] => "—".into(),
                [x] => format!("{x:.4}"),
                v => format!("{:.4} … {:.4}", v[0], v[v.len() - 1]),
            }
        };
        let mut tr: Vec<f64> = fp.transverse.iter().map(|t| t.1).collect();
        tr.sort_by(f64::total_cmp);
        f.push(row![support.join(","), fp.accuracy, fp.stability.name(), fmt(&fp.internal), fmt(&tr)]);
    }
    print!("\n{}", render_table(&f));
    Ok(())
}
