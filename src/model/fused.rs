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
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, D};

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
    let grad: Grad = Box::new(|_, y, g| y * g.broadcast_sub(&(g * y)?.sum_keepdim(D::Minus1)?)?);
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
    fn untracked_inputs_build_no_graph() {
        let x = Tensor::randn(0f32, 1.0, (2, 3), &Device::Cpu).unwrap();
        assert!(!softmax(&x, false).unwrap().track_op());
    }
}
