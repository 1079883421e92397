//! The decoder: embedding, `num_layers` pre-norm blocks (attention, gated MLP), final norm,
//! language-model head.
//!
//! Why our own and not candle-transformers' `llama` / `qwen2` / `qwen3`: in candle 0.11 those
//! forwards use fused ops without a backward (softmax_last_dim, rms_norm, rope, sdpa), so
//! `backward()` silently stops at them and almost no weight gets a gradient; they also return
//! only the last position's logits and keep one cache offset for the whole batch. Here every
//! piece has two paths: [`Path::Train`] (differentiable ops, logits at every position) and
//! [`Path::Infer`] (fused ops, preallocated KV cache, per-row positions).
//!
//! candle-transformers serves where those limits do not matter: its llama / qwen2 / qwen3 are a
//! second, independent reference for this decoder's inference path in the tests
//! (tests/it/reference_candle.rs), and its quantized GGUF models evaluate frozen models without
//! dequantising them (`crate::quantized`, `sharpen eval --quantized`); training never uses it.

use super::attention::{Attention, LayerCache};
use super::cache::KvCache;
use super::config::ModelConfig;
use super::error::Result;
use super::linear::Linear;
use super::mlp::Mlp;
use super::norm::RmsNorm;
use super::rope::Rope;
use super::weights::Weights;
use super::Path;
use candle_core::{DType, Device, Tensor, Var, D};
use std::collections::HashMap;

pub(crate) struct Block {
    input_norm: RmsNorm,
    attn: Attention,
    post_norm: RmsNorm,
    mlp: Mlp,
}

impl Block {
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        ctx: &Context,
        cache: Option<LayerCache<'_>>,
        path: Path,
    ) -> candle_core::Result<Tensor> {
        let h = self.attn.forward(
            &self.input_norm.forward(x, path)?,
            &ctx.cos,
            &ctx.sin,
            ctx.mask.as_ref(),
            cache,
            path,
        )?;
        let x = (x + h)?;
        let h = self.mlp.forward(&self.post_norm.forward(&x, path)?, path)?;
        x + h
    }
}

/// What every layer of one forward shares: rotary cos/sin of each slot and the attention mask.
pub(crate) struct Context {
    cos: Tensor,
    sin: Tensor,
    mask: Option<Tensor>,
}

pub struct Model {
    cfg: ModelConfig,
    pub(crate) embed: Tensor,
    pub(crate) blocks: Vec<Block>,
    pub(crate) norm: RmsNorm,
    pub(crate) lm_head: Tensor,
    rope: Rope,
    vars: Vec<(String, Var)>,
    frozen: Vec<(String, Tensor)>,
    dtype: DType,
    device: Device,
}

fn linear(w: &mut Weights, name: &str, out: usize, inp: usize, bias: bool) -> Result<Linear> {
    let weight = w.take(&format!("{name}.weight"), &[out, inp])?;
    let bias = w.take_opt(&format!("{name}.bias"), &[out], bias)?;
    Ok(Linear::new(weight, bias))
}

/// Positions (B, T) as f32 for slots `offset..offset+T`: slot minus the row's left padding.
fn positions(left_pad: &[usize], offset: usize, t: usize, device: &Device) -> candle_core::Result<Tensor> {
    let v: Vec<f32> =
        left_pad.iter().flat_map(|&p| (offset..offset + t).map(move |s| s.saturating_sub(p) as f32)).collect();
    Tensor::from_vec(v, (left_pad.len(), t), device)
}

/// Additive mask (B, 1, T, L), L = offset + T: a query sees earlier non-padding slots and itself
/// (a padding query sees only itself, so no row of the softmax is empty). None when nothing is masked.
fn mask(
    left_pad: &[usize],
    offset: usize,
    t: usize,
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Option<Tensor>> {
    let l = offset + t;
    if t == 1 && left_pad.iter().all(|&p| p == 0) {
        return Ok(None);
    }
    let mut m = vec![0f32; left_pad.len() * t * l];
    for (b, &p) in left_pad.iter().enumerate() {
        for i in 0..t {
            let q = offset + i;
            for s in 0..l {
                if s != q && (s > q || s < p) {
                    m[(b * t + i) * l + s] = f32::NEG_INFINITY;
                }
            }
        }
    }
    Ok(Some(Tensor::from_vec(m, (left_pad.len(), 1, t, l), device)?.to_dtype(dtype)?))
}

impl Model {
    /// Build from named tensors (Hugging Face names). `trainable` makes every weight a [`Var`].
    pub(crate) fn from_weights(cfg: ModelConfig, mut w: Weights, dtype: DType, device: &Device) -> Result<Self> {
        let (hs, v, d) = (cfg.hidden_size, cfg.vocab_size, cfg.head_dim);
        let embed = w.take("model.embed_tokens.weight", &[v, hs])?;
        let mut blocks = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let p = format!("model.layers.{i}");
            let norm = |w: &mut Weights, n: &str, size: usize| -> Result<RmsNorm> {
                Ok(RmsNorm::new(w.take(&format!("{p}.{n}.weight"), &[size])?, cfg.rms_norm_eps))
            };
            let input_norm = norm(&mut w, "input_layernorm", hs)?;
            let (qn, kn) = if cfg.qk_norm {
                (Some(norm(&mut w, "self_attn.q_norm", d)?), Some(norm(&mut w, "self_attn.k_norm", d)?))
            } else {
                (None, None)
            };
            let attn = Attention {
                q: linear(&mut w, &format!("{p}.self_attn.q_proj"), cfg.num_heads * d, hs, cfg.qkv_bias)?,
                k: linear(&mut w, &format!("{p}.self_attn.k_proj"), cfg.num_kv_heads * d, hs, cfg.qkv_bias)?,
                v: linear(&mut w, &format!("{p}.self_attn.v_proj"), cfg.num_kv_heads * d, hs, cfg.qkv_bias)?,
                o: linear(&mut w, &format!("{p}.self_attn.o_proj"), hs, cfg.num_heads * d, cfg.o_bias)?,
                q_norm: qn,
                k_norm: kn,
                num_heads: cfg.num_heads,
                num_kv_heads: cfg.num_kv_heads,
                head_dim: d,
            };
            let post_norm = norm(&mut w, "post_attention_layernorm", hs)?;
            let im = cfg.intermediate_size;
            let mlp = Mlp {
                gate: linear(&mut w, &format!("{p}.mlp.gate_proj"), im, hs, cfg.mlp_bias)?,
                up: linear(&mut w, &format!("{p}.mlp.up_proj"), im, hs, cfg.mlp_bias)?,
                down: linear(&mut w, &format!("{p}.mlp.down_proj"), hs, im, cfg.mlp_bias)?,
            };
            blocks.push(Block { input_norm, attn, post_norm, mlp });
        }
        let norm = RmsNorm::new(w.take("model.norm.weight", &[hs])?, cfg.rms_norm_eps);
        // Tied checkpoints share one matrix (and one gradient); a stray lm_head.weight is ignored.
        let lm_head = if cfg.tie_word_embeddings { embed.clone() } else { w.take("lm_head.weight", &[v, hs])? };
        let rope = Rope::new(&cfg, dtype, device)?;
        Ok(Model {
            cfg,
            embed,
            blocks,
            norm,
            lm_head,
            rope,
            vars: std::mem::take(&mut w.taken),
            frozen: std::mem::take(&mut w.frozen),
            dtype,
            device: device.clone(),
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The trainable weights with their Hugging Face names (empty for a frozen model).
    pub fn named_vars(&self) -> &[(String, Var)] {
        &self.vars
    }

    /// The trainable weights, e.g. for `candle_nn::AdamW::new` (empty for a frozen model).
    pub fn vars(&self) -> Vec<Var> {
        self.vars.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Every weight under its Hugging Face name, e.g. for `candle_core::safetensors::save`.
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        let vars = self.vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone()));
        vars.chain(self.frozen.iter().cloned()).collect()
    }

    /// Rotary tables and mask for `ids` (B, T) placed at slots `offset..offset+T`.
    pub(crate) fn context(&self, ids: &Tensor, left_pad: &[usize], offset: usize) -> candle_core::Result<Context> {
        let (b, t) = ids.dims2()?;
        if left_pad.len() != b {
            candle_core::bail!("left_pad has {} rows, ids has {b}", left_pad.len());
        }
        let pos = positions(left_pad, offset, t, &self.device)?;
        let (cos, sin) = self.rope.cos_sin(&pos)?;
        Ok(Context { cos, sin, mask: mask(left_pad, offset, t, self.dtype, &self.device)? })
    }

    /// Token embeddings (B, T, hidden).
    pub(crate) fn embed_ids(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        self.embed.index_select(&ids.flatten_all()?, 0)?.reshape((b, t, self.cfg.hidden_size))
    }

    /// Final norm and language-model head: hidden states (N, hidden) → logits (N, vocab).
    pub(crate) fn head(&self, x: &Tensor, path: Path) -> candle_core::Result<Tensor> {
        super::linear::matmul_wt(&self.norm.forward(x, path)?, &self.lm_head, path)
    }

    fn run(
        &self,
        ids: &Tensor,
        left_pad: &[usize],
        cache: Option<&KvCache>,
        last_only: bool,
        path: Path,
    ) -> candle_core::Result<Tensor> {
        let (_, t) = ids.dims2()?;
        let offset = cache.map_or(0, |c| c.len);
        let ctx = self.context(ids, left_pad, offset)?;
        let mut x = self.embed_ids(ids)?;
        for (i, blk) in self.blocks.iter().enumerate() {
            let lc = cache.map(|c| LayerCache { k: &c.layers[i].0, v: &c.layers[i].1, offset });
            x = blk.forward(&x, &ctx, lc, path)?;
        }
        if last_only {
            x = x.narrow(1, t - 1, 1)?;
        }
        let (b, tt, hs) = x.dims3()?;
        self.head(&x.reshape((b * tt, hs))?, path)?.reshape((b, tt, self.cfg.vocab_size))
    }

    /// Training path: logits (B, T, vocab) at every position, differentiable down to every weight.
    /// `ids` (B, T) u32; row b starts with `left_pad[b]` padding tokens (any id), which are masked.
    /// Padding at the end of a row needs no mask: causal attention never looks forward.
    pub fn forward_train(&self, ids: &Tensor, left_pad: &[usize]) -> Result<Tensor> {
        Ok(self.run(ids, left_pad, None, false, Path::Train { composed: false })?)
    }

    /// Inference path without a cache: logits (B, T, vocab) with the fused kernels (no gradient).
    pub fn forward_infer(&self, ids: &Tensor, left_pad: &[usize]) -> Result<Tensor> {
        Ok(self.run(ids, left_pad, None, false, Path::Infer)?)
    }

    /// An empty cache for `left_pad.len()` rows and up to `capacity` slots (prompt + new tokens).
    pub fn new_cache(&self, left_pad: Vec<usize>, capacity: usize) -> Result<KvCache> {
        Ok(KvCache::new(&self.cfg, left_pad, capacity, self.dtype, &self.device)?)
    }

    /// Inference path with the cache: feed `ids` (B, T) at the next T slots of every row,
    /// write their keys and values in place, and return logits (B, T, vocab), or (B, 1, vocab)
    /// for the last position only when `last_only` (a prefill needs nothing else).
    pub fn forward_cached(&self, ids: &Tensor, cache: &mut KvCache, last_only: bool) -> Result<Tensor> {
        let t = ids.dim(1)?;
        if cache.len + t > cache.capacity() {
            return Err(candle_core::Error::Msg(format!(
                "KV cache full: {} + {t} slots > capacity {}",
                cache.len,
                cache.capacity()
            ))
            .into());
        }
        let left_pad = cache.left_pad.clone();
        let logits = self.run(ids, &left_pad, Some(cache), last_only, Path::Infer)?;
        cache.len += t;
        Ok(logits)
    }
}

/// Log-probabilities of each next token: logits (B, T, V) and ids (B, T) → (B, T-1), entry t
/// being log p(ids[t+1] | ids[..=t]). Differentiable; fused on the CPU for f32 (see `logprob`).
pub fn next_token_logprobs(logits: &Tensor, ids: &Tensor) -> Result<Tensor> {
    let (b, t, v) = logits.dims3()?;
    if logits.device().is_cpu() && logits.dtype() == DType::F32 {
        // Every position gets a target (the last one a dummy 0) so that the logits stay one
        // contiguous (B·T, V) block; the dummy column is cut off after the op.
        let ids = ids.to_dtype(DType::U32)?;
        let targets = Tensor::cat(&[ids.narrow(1, 1, t - 1)?, ids.narrow(1, 0, 1)?.zeros_like()?], 1)?;
        let lp = logits
            .contiguous()?
            .reshape((b * t, v))?
            .apply_op2(&targets.flatten_all()?.contiguous()?, super::logprob::TokenLogprob)?;
        return Ok(lp.reshape((b, t))?.narrow(1, 0, t - 1)?);
    }
    let lp = candle_nn::ops::log_softmax(&logits.narrow(1, 0, t - 1)?.to_dtype(DType::F32)?, D::Minus1)?;
    let targets = ids.narrow(1, 1, t - 1)?.contiguous()?.unsqueeze(D::Minus1)?;
    Ok(lp.gather(&targets, D::Minus1)?.reshape((b, t - 1))?)
}
