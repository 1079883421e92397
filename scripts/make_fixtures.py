#!/usr/bin/env python3
"""Build the tiny random decoders of tests/fixtures/ with Hugging Face transformers (CPU, f32).

For each family (llama with Llama-3 rope scaling and tied embeddings, qwen2 with qkv bias and
sharded weights, qwen3 with q/k norm and an explicit head_dim) it writes a Hugging Face folder
and expected.safetensors: two token sequences of different lengths and the reference logits at
every position of each, each sequence run alone (no padding).

Run once from the repository root:  python scripts/make_fixtures.py
Needs torch, transformers, safetensors.
"""
import os
import torch
import transformers
from safetensors.torch import save_file

OUT = os.path.join("tests", "fixtures")

COMMON = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2)

FAMILIES = {
    "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM, dict(
        rope_theta=10000.0, tie_word_embeddings=True,
        # original_max_position_embeddings small so that all three branches of the Llama-3
        # frequency rule apply to a head_dim of 8.
        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_position_embeddings=16)), None),
    "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM, dict(
        rope_theta=1000000.0, tie_word_embeddings=False, use_sliding_window=False), "40KB"),
    "qwen3": (transformers.Qwen3Config, transformers.Qwen3ForCausalLM, dict(
        rope_theta=1000000.0, tie_word_embeddings=False, head_dim=16, attention_bias=False), None),
}


def randomise(model, gen):
    # Default init (std 0.02) gives near-uniform logits that would hide mistakes: use larger weights,
    # and norms away from 1 so that a forgotten norm weight shows.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=gen))


def write_tokenizer(folder):
    """A 64-word word-level tokenizer and a ChatML template, so that the CLI can run end to end."""
    import json
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    words = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "user", "assistant", "system"]
    words += [str(d) for d in range(10)] + list("abcdefghijklmnopqrstuvwxyz") + ["+", "=", "?", "!", ".", ","]
    words += [f"w{i}" for i in range(64 - len(words) - 1)] + ["<unk>"]
    assert len(words) == 64
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"])
    tok.save(os.path.join(folder, "tokenizer.json"))
    template = ("{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
                "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}")
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"chat_template": template, "bos_token": "<s>", "eos_token": "<|im_end|>"}, f, indent=1)


def main():
    torch.set_num_threads(2)
    for i, (name, (cfg_cls, model_cls, extra, shard)) in enumerate(FAMILIES.items()):
        gen = torch.Generator().manual_seed(1000 + i)
        cfg = cfg_cls(**COMMON, **extra)
        cfg._attn_implementation = "eager"
        torch.manual_seed(i)
        model = model_cls(cfg).eval().to(torch.float32)
        randomise(model, gen)
        folder = os.path.join(OUT, f"tiny-{name}")
        kwargs = {"max_shard_size": shard} if shard else {}
        model.save_pretrained(folder, safe_serialization=True, **kwargs)
        ids_a = torch.randint(0, 64, (1, 13), generator=gen)
        ids_b = torch.randint(0, 64, (1, 6), generator=gen)
        with torch.no_grad():
            logits_a = model(ids_a).logits[0].contiguous()
            logits_b = model(ids_b).logits[0].contiguous()
        save_file({"ids_a": ids_a[0].contiguous(), "ids_b": ids_b[0].contiguous(),
                   "logits_a": logits_a, "logits_b": logits_b},
                  os.path.join(folder, "expected.safetensors"))
        if name == "llama":
            write_tokenizer(folder)
        print(name, "transformers", transformers.__version__, "files", sorted(os.listdir(folder)))


if __name__ == "__main__":
    main()
