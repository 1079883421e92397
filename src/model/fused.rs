//! candle's fused kernels (RMSNorm, RoPE, softmax) with a backward.
//!
//! In candle 0.11 these kernels build their output without a backward op, so a graph through
//! them is silently cut; the composed differentiable versions (`rms_norm_slow`, `rope_slow`,
//! `softmax`) cost a dozen full-size kernels forward and more backward. Here the fused kernel
//! runs on detached inputs (any device: candle ships it for the CPU and CUDA), and its output
//! passes through a pass-through op whose backward is written in tensor ops:
//!
//! - RoPE is a rotation of each (x₁, x₂) pair by θ, so its backward is the rotation by −θ: the
//!   same fused kernel with −sin;
//! - softmax: ∂s = y ⊙ (g − Σ g⊙y);
//! - RMSNorm x̂ = x·r with r = (mean x² + ε)^−½: ∂x = r·(g − x̂·mean(g⊙x̂)) in f32; the weight
//!   multiplies x̂ afterwards as an ordinary op.
//!
//! The pass-through costs one copy of the output (a custom op must return fresh storage).

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

/// The pass-through's forward on any backend: a copy of the fused kernel's fresh output.
fn copy_output<S: BackendStorage>(y: &S, ly: &Layout) -> Result<(S, Shape)> {
    if !ly.is_contiguous() || ly.start_offset() != 0 {
        candle_core::bail!("pass-through expects a fresh contiguous output")
    }
    Ok((y.try_clone(ly)?, ly.shape().clone()))
}

/// The upstream gradient → the gradient of the op's input, given the input and the output.
type Grad = Box<dyn Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync>;

/// Forward: a copy of the second argument (the fused kernel's output). Backward: `grad` for
/// the first argument (the kernel's input); none for the output, which is detached.
struct Attach {
    name: &'static str,
    grad: Grad,
}

impl CustomOp2 for Attach {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, y: &CpuStorage, ly: &Layout) -> Result<(CpuStorage, Shape)> {
        copy_output(y, ly)
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        _: &candle_core::CudaStorage,
        _: &Layout,
        y: &candle_core::CudaStorage,
        ly: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        copy_output(y, ly)
    }

    fn bwd(&self, x: &Tensor, y: &Tensor, _res: &Tensor, g: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some((self.grad)(x, y, g)?), None))
    }
}

/// RoPE in the rotate-half layout: x (B, H, T, D), cos/sin (B, T, D/2) contiguous. `composed`
/// uses candle's composed differentiable ops instead of the fused kernel (the reference, and a
/// way around a device where a fused kernel misbehaves; `BackwardOptions::composed_ops`).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, composed: bool) -> Result<Tensor> {
    if composed {
        let c = Tensor::cat(&[cos, cos], D::Minus1)?.unsqueeze(1)?;
        let s = Tensor::cat(&[sin, sin], D::Minus1)?.unsqueeze(1)?;
        let half = x.dim(D::Minus1)? / 2;
        let (x1, x2) = (x.narrow(D::Minus1, 0, half)?, x.narrow(D::Minus1, half, half)?);
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        return x.broadcast_mul(&c)? + rotated.broadcast_mul(&s)?;
    }
    let y = candle_nn::rotary_emb::rope(&x.detach().contiguous()?, cos, sin)?;
    if !x.track_op() {
        return Ok(y);
    }
    let (cos, sin) = (cos.clone(), sin.clone());
    let grad: Grad = Box::new(move |_, _, g| candle_nn::rotary_emb::rope(&g.contiguous()?, &cos, &sin.neg()?));
    x.apply_op2(&y, Attach { name: "rope-backward", grad })
}

/// Softmax over the last axis.
pub fn softmax(s: &Tensor, composed: bool) -> Result<Tensor> {
    if composed {
        return candle_nn::ops::softmax(s, D::Minus1);
    }
    let y = candle_nn::ops::softmax_last_dim(&s.detach().contiguous()?)?;
    if !s.track_op() {
        return Ok(y);
    }
    let grad: Grad = Box::new(|_, y, g| {
        if y.device().is_cpu() && y.dtype() == DType::F32 && g.dtype() == DType::F32 && y.shape() == g.shape() {
            // One pass per row on the host instead of four tensor ops (detached: see rms_norm).
            return y.detach().contiguous()?.apply_op2(&g.detach().contiguous()?, SoftmaxBackward);
        }
        y * g.broadcast_sub(&(g * y)?.sum_keepdim(D::Minus1)?)?
    });
    s.apply_op2(&y, Attach { name: "softmax-backward", grad })
}

/// RMSNorm over the last axis with weight `w`: the fused kernel normalises (with a unit weight),
/// and the weight multiplies after it as an ordinary differentiable op — rounding like
/// transformers, which casts the normalised x to the model dtype before the weight.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64, composed: bool) -> Result<Tensor> {
    if composed {
        return candle_nn::ops::rms_norm_slow(x, w, eps as f32);
    }
    let ones = Tensor::ones(w.shape(), w.dtype(), w.device())?;
    let xhat = candle_nn::ops::rms_norm(&x.detach().contiguous()?, &ones, eps as f32)?;
    let xhat = if x.track_op() {
        // ∂x = r·(g − x̂·mean(g⊙x̂)), r = (mean x² + ε)^−½, in f32.
        let grad: Grad = Box::new(move |x, _, g| {
            let dt = x.dtype();
            if x.device().is_cpu() && dt == DType::F32 && g.dtype() == DType::F32 && x.shape() == g.shape() {
                // One pass per row on the host instead of eleven tensor ops. Detached: a
                // gradient that carried this op would be differentiated again when a
                // checkpointed segment feeds it to the next one, and the op has no backward.
                return x.detach().contiguous()?.apply_op2(&g.detach().contiguous()?, RmsNormBackward { eps });
            }
            let (x, g) = (x.to_dtype(DType::F32)?, g.to_dtype(DType::F32)?);
            let r = (x.sqr()?.mean_keepdim(D::Minus1)? + eps)?.sqrt()?.recip()?;
            let xhat = x.broadcast_mul(&r)?;
            let proj = (&g * &xhat)?.mean_keepdim(D::Minus1)?;
            (g - xhat.broadcast_mul(&proj)?)?.broadcast_mul(&r)?.to_dtype(dt)
        });
        x.apply_op2(&xhat, Attach { name: "rms-norm-backward", grad })?
    } else {
        xhat
    };
    xhat.broadcast_mul(w)
}

/// RMSNorm's input gradient, row by row over the last axis: with r = (mean x² + ε)^−½ and
/// x̂ = x·r, ∂x = r·(g − x̂·mean(g⊙x̂)). Row sums in f64 (the composed version sums in f32).
struct RmsNormBackward {
    eps: f64,
}

impl CustomOp2 for RmsNormBackward {
    fn name(&self) -> &'static str {
        "rms-norm-backward-host"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, g) = f32_slices(s1, l1, s2, l2, "rms-norm backward")?;
        let d = l1.shape().dims().last().copied().unwrap_or(1).max(1);
        let mut dx = vec![0f32; x.len()];
        // Whole rows per task: a fixed number of them, so each task is ~HOST_CHUNK elements.
        let rows = (HOST_CHUNK / d).max(1) * d;
        let eps = self.eps;
        dx.par_chunks_mut(rows).zip(x.par_chunks(rows).zip(g.par_chunks(rows))).for_each(|(dx, (x, g))| {
            for ((dx, x), g) in dx.chunks_mut(d).zip(x.chunks(d)).zip(g.chunks(d)) {
                let ms = x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / d as f64;
                let r = 1.0 / (ms + eps).sqrt();
                let proj = x.iter().zip(g).map(|(&v, &gv)| v as f64 * r * gv as f64).sum::<f64>() / d as f64;
                let (r32, proj32) = (r as f32, proj as f32);
                for ((dx, &v), &gv) in dx.iter_mut().zip(x).zip(g) {
                    *dx = r32 * (gv - v * r32 * proj32);
                }
            }
        });
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

/// Softmax's input gradient, row by row over the last axis: ∂s = y ⊙ (g − Σ g⊙y), the row
/// sum in f64.
struct SoftmaxBackward;

impl CustomOp2 for SoftmaxBackward {
    fn name(&self) -> &'static str {
        "softmax-backward-host"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (y, g) = f32_slices(s1, l1, s2, l2, "softmax backward")?;
        let d = l1.shape().dims().last().copied().unwrap_or(1).max(1);
        let mut ds = vec![0f32; y.len()];
        let rows = (HOST_CHUNK / d).max(1) * d;
        ds.par_chunks_mut(rows).zip(y.par_chunks(rows).zip(g.par_chunks(rows))).for_each(|(ds, (y, g))| {
            for ((ds, y), g) in ds.chunks_mut(d).zip(y.chunks(d)).zip(g.chunks(d)) {
                let dot = y.iter().zip(g).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>() as f32;
                for ((ds, &yv), &gv) in ds.iter_mut().zip(y).zip(g) {
                    *ds = yv * (gv - dot);
                }
            }
        });
        Ok((CpuStorage::F32(ds), l1.shape().clone()))
    }
}

/// Elements per parallel task of the elementwise host kernels (fixed: results never depend on
/// the thread count, and each task is long enough to amortise its dispatch).
const HOST_CHUNK: usize = 1 << 14;

/// silu(a) = a·σ(a) exactly as candle computes it (a / (1 + e^−a)), so the fused forward
/// gives the composed forward's bits.
#[inline]
fn silu(a: f32) -> f32 {
    a / (1.0 + (-a).exp())
}

/// The two contiguous f32 slices of a CPU storage pair, or an error naming `what`.
fn f32_slices<'a>(
    s1: &'a CpuStorage,
    l1: &Layout,
    s2: &'a CpuStorage,
    l2: &Layout,
    what: &str,
) -> Result<(&'a [f32], &'a [f32])> {
    let (CpuStorage::F32(a), CpuStorage::F32(b)) = (s1, s2) else { candle_core::bail!("{what} expects f32") };
    let (Some((a0, a1)), Some((b0, b1))) = (l1.contiguous_offsets(), l2.contiguous_offsets()) else {
        candle_core::bail!("{what} expects contiguous inputs")
    };
    if a1 - a0 != b1 - b0 {
        candle_core::bail!("{what}: inputs of {} and {} elements", a1 - a0, b1 - b0)
    }
    Ok((&a[a0..a1], &b[b0..b1]))
}

/// The gated MLP's silu(a)·b in one pass; its backward in one pass (`SiluMulBackward`).
struct SiluMul;

impl CustomOp2 for SiluMul {
    fn name(&self) -> &'static str {
        "silu-mul"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (a, b) = f32_slices(s1, l1, s2, l2, "silu-mul")?;
        let mut y = vec![0f32; a.len()];
        y.par_chunks_mut(HOST_CHUNK).zip(a.par_chunks(HOST_CHUNK).zip(b.par_chunks(HOST_CHUNK))).for_each(
            |(y, (a, b))| {
                for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
                    *y = silu(a) * b;
                }
            },
        );
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(&self, a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // One kernel writes both gradients side by side, (2, n): ∂a then ∂b.
        // Detached, like every backward kernel here: the result is a value, not a graph.
        let (a, b, g) = (a.detach(), b.detach(), g.detach());
        let grads = a.contiguous()?.apply_op3(&b.contiguous()?, &g.contiguous()?, SiluMulBackward)?;
        let ga = grads.get(0)?.reshape(a.shape())?;
        let gb = grads.get(1)?.reshape(b.shape())?;
        Ok((Some(ga), Some(gb)))
    }
}

/// a, b and the upstream g (each n elements) → (∂a ‖ ∂b) as (2, n), with σ = σ(a):
/// ∂a = g·b·σ·(1 + a·(1 − σ)), ∂b = g·silu(a).
struct SiluMulBackward;

impl CustomOp3 for SiluMulBackward {
    fn name(&self) -> &'static str {
        "silu-mul-backward"
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
        let (a, b) = f32_slices(s1, l1, s2, l2, "silu-mul backward")?;
        let (_, g) = f32_slices(s1, l1, s3, l3, "silu-mul backward")?;
        let n = a.len();
        let mut out = vec![0f32; 2 * n];
        let (ga, gb) = out.split_at_mut(n);
        ga.par_chunks_mut(HOST_CHUNK)
            .zip(gb.par_chunks_mut(HOST_CHUNK))
            .zip(a.par_chunks(HOST_CHUNK).zip(b.par_chunks(HOST_CHUNK)).zip(g.par_chunks(HOST_CHUNK)))
            .for_each(|((ga, gb), ((a, b), g))| {
                for ((ga, gb), ((&a, &b), &g)) in ga.iter_mut().zip(gb).zip(a.iter().zip(b).zip(g)) {
                    let s = 1.0 / (1.0 + (-a).exp());
                    *ga = g * b * s * (1.0 + a * (1.0 - s));
                    *gb = g * (a * s);
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((2, n))))
    }
}

/// silu(a)·b, the gated MLP's activation. `composed`, or any input that is not f32 on the CPU,
/// takes candle's ops (silu, then a multiply: two passes forward and about ten backward, each
/// with a full-size temporary); otherwise one fused pass each way.
pub fn silu_mul(a: &Tensor, b: &Tensor, composed: bool) -> Result<Tensor> {
    let host_f32 = a.device().is_cpu() && a.dtype() == DType::F32 && b.dtype() == DType::F32;
    if composed || !host_f32 || a.shape() != b.shape() {
        return candle_nn::ops::silu(a)? * b;
    }
    a.contiguous()?.apply_op2(&b.contiguous()?, SiluMul)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn max_rel(a: &Tensor, b: &Tensor) -> f32 {
        let d = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        d / b.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap().max(1e-12)
    }

    /// Values and gradients (for a random upstream gradient) against candle's composed ops.
    fn compare(
        fused: impl Fn(&Tensor) -> Result<Tensor>,
        composed: impl Fn(&Tensor) -> Result<Tensor>,
        shape: &[usize],
        what: &str,
    ) {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.5, shape, &dev).unwrap()).unwrap();
        let g = Tensor::randn(0f32, 1.0, shape, &dev).unwrap();
        let (a, b) = (fused(x.as_tensor()).unwrap(), composed(x.as_tensor()).unwrap());
        assert!(max_rel(&a, &b) < 1e-5, "{what}: values differ by {}", max_rel(&a, &b));
        let ga = (a * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (b * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let (ga, gb) = (ga.get(x.as_tensor()).unwrap(), gb.get(x.as_tensor()).unwrap());
        assert!(max_rel(ga, gb) < 1e-5, "{what}: gradients differ by {}", max_rel(ga, gb));
    }

    #[test]
    fn rope_matches_the_composed_rotation() {
        let dev = Device::Cpu;
        let angles = Tensor::randn(0f32, 2.0, (2, 5, 4), &dev).unwrap();
        let (cos, sin) = (angles.cos().unwrap(), angles.sin().unwrap());
        let slow = |x: &Tensor| {
            let c = Tensor::cat(&[&cos, &cos], D::Minus1)?.unsqueeze(1)?;
            let s = Tensor::cat(&[&sin, &sin], D::Minus1)?.unsqueeze(1)?;
            let (x1, x2) = (x.narrow(D::Minus1, 0, 4)?, x.narrow(D::Minus1, 4, 4)?);
            let rot = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
            x.broadcast_mul(&c)? + rot.broadcast_mul(&s)?
        };
        compare(|x| rope(x, &cos, &sin, false), slow, &[2, 3, 5, 8], "rope");
    }

    #[test]
    fn softmax_matches_the_composed_softmax() {
        compare(|x| softmax(x, false), |x| candle_nn::ops::softmax(x, D::Minus1), &[3, 4, 7], "softmax");
        // Rows of attention width, more of them than one host task takes.
        compare(|x| softmax(x, false), |x| candle_nn::ops::softmax(x, D::Minus1), &[2, 160, 128], "softmax (wide)");
    }

    #[test]
    fn rms_norm_matches_the_composed_norm_in_both_arguments() {
        let dev = Device::Cpu;
        let w = Var::from_tensor(&Tensor::randn(1f32, 0.3, 6, &dev).unwrap()).unwrap();
        compare(
            |x| rms_norm(x, w.as_tensor(), 1e-5, false),
            |x| candle_nn::ops::rms_norm_slow(x, w.as_tensor(), 1e-5),
            &[2, 3, 6],
            "rms_norm",
        );
        // Rows wider than a few lanes and more of them than one host task takes.
        let wide = Var::from_tensor(&Tensor::randn(1f32, 0.3, 1000, &dev).unwrap()).unwrap();
        compare(
            |x| rms_norm(x, wide.as_tensor(), 1e-5, false),
            |x| candle_nn::ops::rms_norm_slow(x, wide.as_tensor(), 1e-5),
            &[40, 1000],
            "rms_norm (wide)",
        );
        let x = Tensor::randn(0f32, 1.0, (4, 6), &dev).unwrap();
        let g = Tensor::randn(0f32, 1.0, (4, 6), &dev).unwrap();
        let ga =
            (rms_norm(&x, w.as_tensor(), 1e-5, false).unwrap() * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let slow = candle_nn::ops::rms_norm_slow(&x, w.as_tensor(), 1e-5).unwrap();
        let gb = (slow * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let d = max_rel(ga.get(w.as_tensor()).unwrap(), gb.get(w.as_tensor()).unwrap());
        assert!(d < 1e-5, "rms_norm weight gradient differs by {d}");
    }

    #[test]
    fn silu_mul_matches_the_composed_ops_in_both_arguments() {
        let dev = Device::Cpu;
        // More than one parallel chunk, and a ragged tail.
        let n = 2 * HOST_CHUNK + 5;
        let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, n, &dev).unwrap()).unwrap();
        compare(|a| silu_mul(a, b.as_tensor(), false), |a| silu_mul(a, b.as_tensor(), true), &[n], "silu_mul (a)");
        let a = Var::from_tensor(&Tensor::randn(0f32, 3.0, (3, 7), &dev).unwrap()).unwrap();
        compare(|b| silu_mul(a.as_tensor(), b, false), |b| silu_mul(a.as_tensor(), b, true), &[3, 7], "silu_mul (b)");
        // The fused forward is the composed forward to the bit (the same formula).
        let (x, y) = (a.as_tensor(), Tensor::randn(0f32, 1.0, (3, 7), &dev).unwrap());
        let (f, c) = (silu_mul(x, &y, false).unwrap(), silu_mul(x, &y, true).unwrap());
        assert_eq!(
            f.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            c.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
    }

    /// The fused backward against central finite differences of Σ c·silu(a)·b, per element.
    #[test]
    fn silu_mul_gradient_matches_finite_differences() {
        let dev = Device::Cpu;
        let a0: Vec<f64> = (0..40).map(|i| -6.0 + 0.3 * i as f64).collect();
        let b0: Vec<f64> = (0..40).map(|i| 0.5 - 0.07 * i as f64).collect();
        let c: Vec<f64> = (0..40).map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0).collect();
        let a =
            Var::from_tensor(&Tensor::from_vec(a0.iter().map(|&x| x as f32).collect::<Vec<_>>(), 40, &dev).unwrap())
                .unwrap();
        let b =
            Var::from_tensor(&Tensor::from_vec(b0.iter().map(|&x| x as f32).collect::<Vec<_>>(), 40, &dev).unwrap())
                .unwrap();
        let ct = Tensor::from_vec(c.iter().map(|&x| x as f32).collect::<Vec<_>>(), 40, &dev).unwrap();
        let store = (silu_mul(a.as_tensor(), b.as_tensor(), false).unwrap() * &ct)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let ga = store.get(a.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        let gb = store.get(b.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        let f = |a: f64, b: f64, c: f64| c * a / (1.0 + (-a).exp()) * b;
        let h = 1e-5;
        for i in 0..40 {
            let da = (f(a0[i] + h, b0[i], c[i]) - f(a0[i] - h, b0[i], c[i])) / (2.0 * h);
            let db = (f(a0[i], b0[i] + h, c[i]) - f(a0[i], b0[i] - h, c[i])) / (2.0 * h);
            assert!((ga[i] as f64 - da).abs() < 1e-5 * (1.0 + da.abs()), "∂a[{i}]: {} vs {da}", ga[i]);
            assert!((gb[i] as f64 - db).abs() < 1e-5 * (1.0 + db.abs()), "∂b[{i}]: {} vs {db}", gb[i]);
        }
    }

    /// RMSNorm's fused backward (host kernel) against central finite differences in f64 of
    /// Σ c·rms_norm(x)·w, element by element, rows of several widths.
    #[test]
    fn rms_norm_gradient_matches_finite_differences() {
        let dev = Device::Cpu;
        let (rows, d, eps) = (3usize, 5usize, 1e-5f64);
        let x0: Vec<f64> = (0..rows * d).map(|i| ((i * 13 % 17) as f64 - 8.0) / 4.0).collect();
        let w0: Vec<f64> = (0..d).map(|i| 0.5 + 0.25 * i as f64).collect();
        let c: Vec<f64> = (0..rows * d).map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0).collect();
        let f32v = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<_>>();
        let x = Var::from_tensor(&Tensor::from_vec(f32v(&x0), (rows, d), &dev).unwrap()).unwrap();
        let w = Tensor::from_vec(f32v(&w0), d, &dev).unwrap();
        let ct = Tensor::from_vec(f32v(&c), (rows, d), &dev).unwrap();
        let y = rms_norm(x.as_tensor(), &w, eps, false).unwrap();
        let gx = (y * ct).unwrap().sum_all().unwrap().backward().unwrap().get(x.as_tensor()).unwrap().clone();
        let gx = gx.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let loss = |x: &[f64]| -> f64 {
            (0..rows)
                .map(|r| {
                    let row = &x[r * d..(r + 1) * d];
                    let inv = 1.0 / (row.iter().map(|v| v * v).sum::<f64>() / d as f64 + eps).sqrt();
                    (0..d).map(|j| c[r * d + j] * row[j] * inv * w0[j]).sum::<f64>()
                })
                .sum()
        };
        let h = 1e-6;
        for i in 0..rows * d {
            let (mut up, mut down) = (x0.clone(), x0.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (loss(&up) - loss(&down)) / (2.0 * h);
            assert!((gx[i] as f64 - fd).abs() < 1e-4 * (1.0 + fd.abs()), "∂x[{i}]: {} vs {fd}", gx[i]);
        }
    }

    /// Softmax's fused backward against central finite differences in f64 of Σ c·softmax(s).
    #[test]
    fn softmax_gradient_matches_finite_differences() {
        let (rows, d) = (3usize, 6usize);
        let s0: Vec<f64> = (0..rows * d).map(|i| ((i * 13 % 17) as f64 - 8.0) / 3.0).collect();
        let c: Vec<f64> = (0..rows * d).map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0).collect();
        let f32v = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<_>>();
        let dev = Device::Cpu;
        let s = Var::from_tensor(&Tensor::from_vec(f32v(&s0), (rows, d), &dev).unwrap()).unwrap();
        let ct = Tensor::from_vec(f32v(&c), (rows, d), &dev).unwrap();
        let y = softmax(s.as_tensor(), false).unwrap();
        let gs = (y * ct).unwrap().sum_all().unwrap().backward().unwrap().get(s.as_tensor()).unwrap().clone();
        let gs = gs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let loss = |s: &[f64]| -> f64 {
            (0..rows)
                .map(|r| {
                    let row = &s[r * d..(r + 1) * d];
                    let z: f64 = row.iter().map(|v| v.exp()).sum();
                    (0..d).map(|j| c[r * d + j] * row[j].exp() / z).sum::<f64>()
                })
                .sum()
        };
        let h = 1e-6;
        for i in 0..rows * d {
            let (mut up, mut down) = (s0.clone(), s0.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (loss(&up) - loss(&down)) / (2.0 * h);
            assert!((gs[i] as f64 - fd).abs() < 1e-5 * (1.0 + fd.abs()), "∂s[{i}]: {} vs {fd}", gs[i]);
        }
    }

    #[test]
    fn untracked_inputs_build_no_graph() {
        let x = Tensor::randn(0f32, 1.0, (2, 3), &Device::Cpu).unwrap();
        assert!(!softmax(&x, false).unwrap().track_op());
    }
}
