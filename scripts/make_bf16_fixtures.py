#!/usr/bin/env python3
"""bf16 reference logits for the tiny fixtures (tests/fixtures/tiny-*), from Hugging Face
transformers running the same committed weights in bfloat16 on the CPU.

They set the bf16 tolerance of `sharpen bench device`: our bf16 logits may differ from the
f32 reference by at most a small multiple of what transformers' own bf16 run differs by.

Run once from the repository root:  python scripts/make_bf16_fixtures.py
Needs torch, transformers, safetensors.
"""
import os
import torch
import transformers
from safetensors.torch import load_file, save_file

OUT = os.path.join("tests", "fixtures")

for name in ["llama", "qwen2", "qwen3"]:
    d = os.path.join(OUT, f"tiny-{name}")
    model = transformers.AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.bfloat16, attn_implementation="eager")
    model.eval()
    exp = load_file(os.path.join(d, "expected.safetensors"))
    with torch.no_grad():
        ids = exp["ids_a"].long().unsqueeze(0)
        logits = model(input_ids=ids).logits[0].float()
    err = (logits - exp["logits_a"]).abs().max().item()
    print(f"{name}: transformers bf16 vs f32 max |dlogit| = {err:.4f} (max |logit| {exp['logits_a'].abs().max().item():.2f})")
    save_file({"logits_a": logits.contiguous()}, os.path.join(d, "expected_bf16.safetensors"))
