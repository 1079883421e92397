//! `sharpen bench device`: correctness of the model stack on a device, the first part of the
//! GPU check. On the tiny llama / qwen2 / qwen3 fixtures (tests/fixtures, logits from
//! transformers), in f32 and bf16: logits of the training path, the inference path and
//! cached decoding against transformers'; the checkpointed backward's gradient against the
//! CPU's f32 gradient (every weight must get one); greedy tokens of the device sampler against
//! the host sampler on the CPU.

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, IndexOp, Tensor};
use clap::Args;
use sharpen::device;
use sharpen::model::{next_token_logprobs, BackwardOptions, Grads, LoadOptions, Model};
use sharpen::rollout::{sample, Sampler, SamplingParams};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct BenchDeviceArgs {
    /// Folder holding tiny-llama, tiny-qwen2 and tiny-qwen3.
    #[arg(long, default_value = "tests/fixtures")]
    pub fixtures: PathBuf,
    /// cpu, cuda or auto.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Tolerances. f32: what the CPU tests hold (logits absolute, gradients relative to each
/// weight's largest entry). bf16 logits: at most twice the distance of transformers' own bf16
/// run from the f32 reference (tests/fixtures/*/expected_bf16.safetensors, made by
/// scripts/fixtures/make_bf16_fixtures.py). bf16 gradients: 1 − cosine to the f32 gradient over all
/// weights (the direction an update takes).
const F32_LOGITS: f32 = 1e-4;
const BF16_VS_REFERENCE: f32 = 2.0;
const F32_GRAD_REL: f32 = 1e-3;
const BF16_GRAD_COSINE_GAP: f32 = 1e-2;

struct Check {
    name: String,
    err: f32,
    tol: f32,
}

fn max_abs(a: &Tensor) -> Result<f32> {
    Ok(a.to_dtype(DType::F32)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?)
}

fn diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    let a = a.to_dtype(DType::F32)?.to_device(&Device::Cpu)?;
    max_abs(&(a - b.to_dtype(DType::F32)?.to_device(&Device::Cpu)?)?)
}

fn load(dir: &Path, dtype: DType, device: &Device, trainable: bool) -> Result<Model> {
    Ok(Model::load(dir, &LoadOptions { dtype, device: device.clone(), trainable })?)
}

/// A fixed batch for the gradient: ids_a twice (second row left-padded by 2), weights on the
/// second half of each row.
fn grad_batch(ids: &[u32], device: &Device) -> Result<(Tensor, Vec<usize>, Vec<f32>)> {
    let t = ids.len();
    let mut flat = ids.to_vec();
    flat.extend([0, 0]);
    flat.extend_from_slice(&ids[..t - 2]);
    let w: Vec<f32> =
        (0..2).flat_map(|_| (0..t - 1).map(move |p| if p >= t / 2 { 0.1 * (1 + p % 3) as f32 } else { 0.0 })).collect();
    Ok((Tensor::from_vec(flat, (2, t), device)?, vec![0, 2], w))
}

fn gradient(m: &Model, ids: &Tensor, pads: &[usize], w: &[f32]) -> Result<Vec<(String, Tensor)>> {
    let mut g = Grads::new();
    m.weighted_logprob_backward(
        ids,
        pads,
        w,
        BackwardOptions { checkpoint_every: 1, head_chunk: 5, ..BackwardOptions::default() },
        &mut g,
    )?;
    m.named_vars()
        .iter()
        .map(|(n, v)| {
            let t = g.get(v.as_tensor()).with_context(|| format!("{n} received no gradient"))?;
            Ok((n.clone(), t.to_device(&Device::Cpu)?))
        })
        .collect()
}

fn family(dir: &Path, name: &str, dev: &Device) -> Result<Vec<Check>> {
    let exp = candle_core::safetensors::load(dir.join("expected.safetensors"), &Device::Cpu)?;
    let ids: Vec<u32> = exp["ids_a"].to_dtype(DType::U32)?.to_vec1()?;
    let want = &exp["logits_a"];
    let exp16 = candle_core::safetensors::load(dir.join("expected_bf16.safetensors"), &Device::Cpu)?;
    let bf16_tol = BF16_VS_REFERENCE * diff(&exp16["logits_a"], want)?;
    let t = ids.len();
    let mut out = Vec::new();
    let cpu_grad = {
        let m = load(dir, DType::F32, &Device::Cpu, true)?;
        let (ids_b, pads, w) = grad_batch(&ids, &Device::Cpu)?;
        gradient(&m, &ids_b, &pads, &w)?
    };
    for dtype in [DType::F32, DType::BF16] {
        let tag = format!("{name} {}", if dtype == DType::F32 { "f32" } else { "bf16" });
        let tol = if dtype == DType::F32 { F32_LOGITS } else { bf16_tol };
        let m = load(dir, dtype, dev, false)?;
        let x = Tensor::new(ids.as_slice(), dev)?.unsqueeze(0)?;
        let train = m.forward_train(&x, &[0])?.i(0)?;
        out.push(Check { name: format!("{tag} logits, training path"), err: diff(&train, want)?, tol });
        let infer = m.forward_infer(&x, &[0])?.i(0)?;
        out.push(Check { name: format!("{tag} logits, inference path"), err: diff(&infer, want)?, tol });
        let mut cache = m.new_cache(vec![0], t)?;
        let mut rows = vec![m.forward_cached(&x.narrow(1, 0, t - 3)?, &mut cache, false)?.i(0)?];
        for p in t - 3..t {
            rows.push(m.forward_cached(&x.narrow(1, p, 1)?, &mut cache, false)?.i(0)?);
        }
        let cached = Tensor::cat(&rows, 0)?;
        out.push(Check { name: format!("{tag} logits, KV-cache decode"), err: diff(&cached, want)?, tol });

        let mt = load(dir, dtype, dev, true)?;
        let (ids_b, pads, w) = grad_batch(&ids, dev)?;
        let g = gradient(&mt, &ids_b, &pads, &w)?;
        if dtype == DType::F32 {
            let mut worst = 0f32;
            for ((_, a), (_, b)) in g.iter().zip(&cpu_grad) {
                worst = worst.max(diff(a, b)? / max_abs(b)?.max(1e-8));
            }
            let name = format!("{tag} gradient vs CPU f32, max rel ({} weights)", g.len());
            out.push(Check { name, err: worst, tol: F32_GRAD_REL });
        } else {
            let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
            for ((_, a), (_, b)) in g.iter().zip(&cpu_grad) {
                let a: Vec<f32> = a.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
                let b: Vec<f32> = b.flatten_all()?.to_vec1()?;
                for (x, y) in a.iter().zip(&b) {
                    dot += (*x as f64) * (*y as f64);
                    na += (*x as f64).powi(2);
                    nb += (*y as f64).powi(2);
                }
            }
            let gap = (1.0 - dot / (na.sqrt() * nb.sqrt()).max(1e-30)) as f32;
            let name = format!("{tag} gradient vs CPU f32, 1 - cosine ({} weights)", g.len());
            out.push(Check { name, err: gap, tol: BF16_GRAD_COSINE_GAP });
        }

        if dtype == DType::F32 {
            let lp = next_token_logprobs(&m.forward_infer(&x, &[0])?, &x)?;
            let sp = SamplingParams { greedy: true, max_new_tokens: 12, ignore_eos: true, ..Default::default() };
            let prompt = vec![ids[..t / 2].to_vec()];
            let on_dev = sample(&m, &prompt, 1, &[], &SamplingParams { sampler: Sampler::Device, ..sp.clone() })?;
            let host_m = load(dir, DType::F32, &Device::Cpu, false)?;
            let on_host = sample(&host_m, &prompt, 1, &[], &SamplingParams { sampler: Sampler::Host, ..sp })?;
            let differ = on_dev[0].tokens.iter().zip(&on_host[0].tokens).filter(|(a, b)| a != b).count();
            out.push(Check {
                name: format!("{tag} greedy tokens, device vs host sampler"),
                err: differ as f32,
                tol: 0.5,
            });
            let finite = lp.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?.iter().all(|x| x.is_finite());
            out.push(Check { name: format!("{tag} log-probs finite"), err: if finite { 0.0 } else { 1.0 }, tol: 0.5 });
        }
    }
    Ok(out)
}

pub fn run(a: &BenchDeviceArgs) -> Result<()> {
    let dev = device::select(&a.device)?;
    let mut all = Vec::new();
    for name in ["llama", "qwen2", "qwen3"] {
        let dir = a.fixtures.join(format!("tiny-{name}"));
        if !dir.join("expected.safetensors").exists() {
            bail!("{}: no fixture (expected.safetensors)", dir.display());
        }
        all.extend(family(&dir, name, &dev).with_context(|| format!("fixture tiny-{name}"))?);
    }
    let failed = all.iter().filter(|c| !(c.err <= c.tol)).count();
    for c in &all {
        let ok = c.err <= c.tol;
        if a.json {
            println!("{}", serde_json::json!({"check": c.name, "max_err": c.err, "tol": c.tol, "ok": ok}));
        } else {
            println!("{:<60} {:>10.3e} {:>10.3e}  {}", c.name, c.err, c.tol, if ok { "ok" } else { "FAIL" });
        }
    }
    if failed > 0 {
        bail!("{failed} of {} device checks failed", all.len());
    }
    Ok(())
}
