//! log p(target) = x[target] − logsumexp(x) per row, fused for f32 on the CPU: one parallel
//! read of the logits forward and one parallel write of the gradient backward, instead of the
//! half-dozen full-size temporaries of log_softmax + gather (the logits are the largest
//! activation of a training step: rows × vocabulary).

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// (N, V) f32 logits, (N) u32 targets → (N) f32 log-probabilities; differentiable in the logits.
pub struct TokenLogprob;
/// (N, V) logits, (N) targets, (N) upstream gradient → (N, V) gradient: g·(onehot − softmax).
struct TokenLogprobGrad;

fn slices<'a>(
    s1: &'a CpuStorage,
    l1: &Layout,
    s2: &'a CpuStorage,
    l2: &Layout,
) -> Result<(&'a [f32], &'a [u32], usize, usize)> {
    let (n, v) = l1.shape().dims2()?;
    let (Some((a0, a1)), Some((b0, b1))) = (l1.contiguous_offsets(), l2.contiguous_offsets()) else {
        candle_core::bail!("token-logprob needs contiguous inputs")
    };
    let x = &s1.as_slice::<f32>()?[a0..a1];
    let t = &s2.as_slice::<u32>()?[b0..b1];
    if t.len() != n {
        candle_core::bail!("token-logprob: {} targets for {n} rows", t.len())
    }
    Ok((x, t, n, v))
}

/// Row maximum and log Σ exp(x − max).
fn row_stats(row: &[f32]) -> (f32, f32) {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: f32 = row.iter().map(|&x| (x - m).exp()).sum();
    (m, s.ln())
}

impl CustomOp2 for TokenLogprob {
    fn name(&self) -> &'static str {
        "token-logprob"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, t, n, v) = slices(s1, l1, s2, l2)?;
        let out: Vec<f32> = x
            .par_chunks(v)
            .zip(t.par_iter())
            .map(|(row, &tg)| {
                let (m, ls) = row_stats(row);
                row[tg as usize] - m - ls
            })
            .collect();
        Ok((CpuStorage::F32(out), Shape::from(n)))
    }

    fn bwd(&self, x: &Tensor, t: &Tensor, _res: &Tensor, g: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(x.apply_op3_no_bwd(t, &g.contiguous()?, &TokenLogprobGrad)?), None))
    }
}

impl CustomOp3 for TokenLogprobGrad {
    fn name(&self) -> &'static str {
        "token-logprob-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, t, n, v) = slices(s1, l1, s2, l2)?;
        let Some((c0, c1)) = l3.contiguous_offsets() else { candle_core::bail!("gradient not contiguous") };
        let g = &s3.as_slice::<f32>()?[c0..c1];
        let mut out = vec![0f32; n * v];
        out.par_chunks_mut(v).zip(x.par_chunks(v)).zip(t.par_iter().zip(g.par_iter())).for_each(
            |((o, row), (&tg, &gr))| {
                let (m, ls) = row_stats(row);
                let shift = m + ls;
                for (oi, &xi) in o.iter_mut().zip(row) {
                    *oi = -gr * (xi - shift).exp();
                }
                o[tg as usize] += gr;
            },
        );
        Ok((CpuStorage::F32(out), Shape::from((n, v))))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::next_token_logprobs;
    use candle_core::{DType, Device, Tensor, Var, D};

    #[test]
    fn fused_values_and_gradient_match_log_softmax_gather() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&(Tensor::randn(0f32, 3.0, (3, 5, 17), &dev).unwrap())).unwrap();
        let ids = Tensor::from_vec((0..15u32).map(|i| (i * 7) % 17).collect(), (3, 5), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (3, 4), &dev).unwrap();
        let fused = next_token_logprobs(x.as_tensor(), &ids).unwrap();
        let lp = candle_nn::ops::log_softmax(&x.as_tensor().narrow(1, 0, 4).unwrap(), D::Minus1).unwrap();
        let tg = ids.narrow(1, 1, 4).unwrap().contiguous().unwrap().unsqueeze(2).unwrap();
        let plain = lp.gather(&tg, D::Minus1).unwrap().squeeze(2).unwrap();
        let diff = (&fused - &plain).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "values differ by {diff}");
        let g1 = (fused * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (plain * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let (a, b) = (g1.get(x.as_tensor()).unwrap(), g2.get(x.as_tensor()).unwrap());
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "gradients differ by {diff}");
        let norm = a.sqr().unwrap().sum_all().unwrap().to_dtype(DType::F32).unwrap().to_scalar::<f32>().unwrap();
        assert!(norm > 1e-3);
    }
}
