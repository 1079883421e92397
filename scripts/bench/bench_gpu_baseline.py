#!/usr/bin/env python3
"""PyTorch + Hugging Face transformers baseline for `sharpen bench rl` (issue 7).

Builds a model from a config.json (configs/shapes/*.json) with random weights directly on the
device, in eager mode with sdpa attention and no compilation, then measures:

- rollouts: one `generate` call over --batch random prompts of --prompt-len tokens, sampling at
  temperature 1 (top-p 1, no top-k) for exactly --new-tokens tokens (min_new_tokens = max_new_tokens,
  so EOS cannot stop a row early); a small warm-up call first is not timed;
- one policy-gradient step over the same batch x (prompt + new) sequences, full fine-tuning:
  token-level loss = -(sum over response tokens of advantage * log-prob) / response tokens, with
  random advantages, accumulated over micro-batches, gradient clipping at 1.0 and one AdamW step.

Prints exactly one JSON line (the same keys as `sharpen bench rl --json`, without grads_ok):

  python scripts/bench/bench_gpu_baseline.py --shape configs/shapes/qwen2.5-3b.json --device cuda
"""
import argparse
import json
import os
import sys
import time

import torch
from transformers import AutoConfig, AutoModelForCausalLM


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", required=True, help="config.json of the model shape (random weights)")
    ap.add_argument("--batch", type=int, default=256, help="sequences per rollout batch and per step")
    ap.add_argument("--prompt-len", type=int, default=128, help="random prompt tokens per sequence")
    ap.add_argument("--new-tokens", type=int, default=256, help="tokens sampled per sequence")
    ap.add_argument("--micro-batch", type=int, default=8, help="sequences per forward/backward in the step")
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16", help="dtype of weights and compute")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-6, help="AdamW learning rate")
    a = ap.parse_args()
    for name in ("batch", "prompt_len", "new_tokens", "micro_batch"):
        if getattr(a, name) <= 0:
            ap.error(f"--{name.replace('_', '-')} must be positive")
    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda but torch.cuda.is_available() is false")
    return a


def build_model(path, dtype, device):
    with open(path) as f:
        fields = json.load(f)
    fields.pop("torch_dtype", None)
    fields.pop("dtype", None)
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    with torch.device(device):
        try:
            model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
        except TypeError:  # transformers < 4.56 calls it torch_dtype
            model = AutoModelForCausalLM.from_config(config, torch_dtype=dtype, attn_implementation="sdpa")
    return model.to(device=device, dtype=dtype), config


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def first_eos(config):
    eos = getattr(config, "eos_token_id", None)
    if isinstance(eos, (list, tuple)):
        eos = eos[0] if eos else None
    return 0 if eos is None else int(eos)


def rollout(model, prompts, new_tokens, pad):
    with torch.no_grad():
        return model.generate(
            input_ids=prompts,
            attention_mask=torch.ones_like(prompts),
            do_sample=True,
            temperature=1.0,
            top_p=1.0,
            top_k=0,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            pad_token_id=pad,
        )


def pg_step(model, opt, seqs, advantages, prompt_len, micro_batch):
    """One policy-gradient step over all sequences, micro-batched; returns the summed loss."""
    model.train()
    opt.zero_grad(set_to_none=True)
    n_tokens = seqs.shape[0] * (seqs.shape[1] - prompt_len)
    total = 0.0
    for start in range(0, seqs.shape[0], micro_batch):
        ids = seqs[start : start + micro_batch]
        adv = advantages[start : start + micro_batch]
        logits = model(input_ids=ids, use_cache=False).logits[:, prompt_len - 1 : -1]
        logp = torch.log_softmax(logits.float(), dim=-1)
        token_logp = logp.gather(-1, ids[:, prompt_len:].unsqueeze(-1)).squeeze(-1)
        loss = -(adv.unsqueeze(1) * token_logp).sum() / n_tokens
        loss.backward()
        total += loss.item()
        del logits, logp, token_logp, loss
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    model.eval()
    return total


def main():
    a = parse_args()
    dtype = {"bf16": torch.bfloat16, "f32": torch.float32}[a.dtype]
    torch.manual_seed(a.seed)
    if a.device == "cuda":
        torch.cuda.manual_seed_all(a.seed)
        torch.cuda.reset_peak_memory_stats()
    model, config = build_model(a.shape, dtype, a.device)
    model.eval()
    pad = first_eos(config)

    gen = torch.Generator(device="cpu").manual_seed(a.seed)
    prompts = torch.randint(0, config.vocab_size, (a.batch, a.prompt_len), generator=gen).to(a.device)
    advantages = torch.randn(a.batch, generator=gen).to(a.device)

    # Warm-up (kernel selection, allocator), not timed.
    rollout(model, prompts[: min(a.batch, a.micro_batch)], min(a.new_tokens, 8), pad)

    sync(a.device)
    t0 = time.perf_counter()
    seqs = rollout(model, prompts, a.new_tokens, pad)
    sync(a.device)
    rollout_s = time.perf_counter() - t0
    expected = (a.batch, a.prompt_len + a.new_tokens)
    if tuple(seqs.shape) != expected:
        sys.exit(f"generate returned shape {tuple(seqs.shape)}, expected {expected}")

    fused = {"fused": True} if a.device == "cuda" else {}
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, **fused)
    sync(a.device)
    t0 = time.perf_counter()
    loss = pg_step(model, opt, seqs, advantages, a.prompt_len, a.micro_batch)
    sync(a.device)
    step_s = time.perf_counter() - t0
    if loss != loss:  # NaN
        sys.exit("policy-gradient loss is NaN")

    peak = torch.cuda.max_memory_allocated() / 2**30 if a.device == "cuda" else None
    row = {
        "stack": "transformers",
        "shape": os.path.splitext(os.path.basename(a.shape))[0],
        "device": a.device,
        "dtype": a.dtype,
        "batch": a.batch,
        "prompt_len": a.prompt_len,
        "new_tokens": a.new_tokens,
        "rollout_s": round(rollout_s, 4),
        "rollout_tok_s": round(a.batch * a.new_tokens / rollout_s, 1),
        "step_s": round(step_s, 4),
        "train_tok_s": round(a.batch * (a.prompt_len + a.new_tokens) / step_s, 1),
        "peak_gib": None if peak is None else round(peak, 2),
    }
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
