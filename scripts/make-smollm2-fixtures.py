#!/usr/bin/env python3
"""Make the SmolLM2 reference fixtures (tests/fixtures/smollm2/*.json) with Hugging Face transformers.

Run once, after scripts/fetch-test-model.sh, with a Python that has torch, transformers, gguf and
accelerate:  python scripts/make-smollm2-fixtures.py
The reference is transformers reading the GGUF itself (`gguf_file=`), which does not use our
converter; the folder written by `sharpen convert` is loaded too and checked against it.
"""
import copy
import json
import sys
import pathlib
import random

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER = MODELS / "SmolLM2-135M-Instruct"
OUT = ROOT / "tests" / "fixtures" / "smollm2"

STRINGS = [
    "Hello world",
    "12345",
    "3.14159265358979",
    "1,000,000 and 1000000",
    "The year 2024 had 366 days.",
    "x = 12 + 7",
    "-42 0.000001 1e-10 9007199254740993",
    "  leading spaces",
    "trailing spaces   ",
    "a  b   c    d",
    "tabs\tand\t\ttabs",
    "line1\nline2\n\nline4",
    "\n\n\n",
    "\r\n windows\r\n",
    "    four-space indent\n        eight",
    "def f(x):\n    return x**2 + 1\n",
    "for (int i = 0; i < 10; ++i) { sum += a[i]; }",
    "\\frac{1}{2} + \\sqrt{x^2+y^2} = \\boxed{42}",
    "$\\int_0^1 x\\,dx = \\tfrac12$",
    "naïve café résumé",
    "Straße München",
    "日本語のテキスト",
    "中文测试：你好，世界！",
    "Привет, мир!",
    "مرحبا بالعالم",
    "emoji 😀🎉👍🏽",
    "family 👨‍👩‍👧‍👦",
    "<|im_start|>user\nHi<|im_end|>\n",
    "<|endoftext|>",
    "a<|im_end|>b",
    "I'm can't won't they're we've he'll she'd",
    "ALL CAPS SHOUTING",
    "mixedCase_snake_case-kebab",
    "https://example.com/path?q=1&r=2",
    "!!!???...",
    "−5 ≤ x ≤ 5",
    "٣٤٥ arabic-indic digits",
    "①②③ ½ ¾ ²³",
    " ",
    "",
]

PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "What is 12 + 7?",
    "List three prime numbers.",
    "Explain gravity in one sentence.",
]

# A chat-templated prompt (special tokens, default system prompt) followed by plain text.
LOGITS_TEXT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nThe quick brown fox jumps over the lazy dog. 1 2 3<|im_end|>\n<|im_start|>assistant\n"
)
NEW_TOKENS = 32
PROBE_IDS = 64


def load_models():
    ref = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=GGUF, dtype=torch.float32).eval()
    ours = AutoModelForCausalLM.from_pretrained(FOLDER, dtype=torch.float32).eval()
    return ref, ours


def weights_fixture(ref, ours):
    """Values of every reference tensor at seeded positions, and the folder's max difference."""
    rng = random.Random(7)
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    tensors, max_diff = {}, 0.0
    for name, t in sorted(ref_sd.items()):
        if name == "lm_head.weight" and ref.config.tie_word_embeddings:
            continue
        flat = t.reshape(-1)
        idx = sorted(rng.randrange(flat.numel()) for _ in range(16))
        # The first row of a matrix too: the q/k permutation moves rows within a head.
        head = list(range(min(8, flat.numel())))
        picks = head + idx
        tensors[name] = {"shape": list(t.shape), "index": picks, "value": [float(flat[i]) for i in picks]}
        max_diff = max(max_diff, float((t - our_sd[name]).abs().max()))
    assert set(our_sd) == set(ref_sd), sorted(set(our_sd) ^ set(ref_sd))
    return {"tensors": tensors, "max_abs_diff_folder_vs_gguf": max_diff}


def tokenizer_fixture():
    tok_gguf = AutoTokenizer.from_pretrained(MODELS, gguf_file=GGUF)
    tok_folder = AutoTokenizer.from_pretrained(FOLDER)
    cases = []
    for s in STRINGS:
        a = tok_folder(s, add_special_tokens=True)["input_ids"]
        b = tok_gguf(s, add_special_tokens=True)["input_ids"]
        cases.append({"text": s, "ids_folder": a, "ids_gguf": b, "decoded": tok_folder.decode(a)})
    return tok_folder, tok_gguf, {"cases": cases}


def greedy_fixture(tok, tok_gguf, ref, ours):
    """Greedy tokens past EOS (the paper's ignore-EOS runs) with each step's top-1 / top-2 margin,
    so that a test can tell a real mismatch from a near-tie broken by rounding."""
    cases = []
    for p in PROMPTS:
        messages = [{"role": "user", "content": p}]
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        assert text == tok_gguf.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        outs = []
        for model in (ref, ours):
            with torch.no_grad():
                # An explicit mask: without one, generate() masks every prompt token equal to the
                # pad id, and SmolLM2's pad is <|im_end|>, which the chat prompt contains.
                g = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW_TOKENS,
                                   do_sample=False, eos_token_id=None,
                                   pad_token_id=tok.pad_token_id, output_scores=True, return_dict_in_generate=True)
            top2 = [torch.topk(s[0].double(), 2).values for s in g.scores]
            outs.append((g.sequences[0, ids.shape[1]:].tolist(), [float(v[0] - v[1]) for v in top2]))
        assert outs[0][0] == outs[1][0], (p, outs)
        cases.append({"prompt": p, "chat_text": text, "prompt_ids": ids[0].tolist(), "greedy_ids": outs[0][0],
                      "top2_margin": outs[0][1], "greedy_text": tok.decode(outs[0][0])})
    return {"new_tokens": NEW_TOKENS, "ignore_eos": True, "cases": cases}


def logits_fixture(tok, ref, ours):
    """Logits at every position at a seeded set of ids, plus top-10 and logsumexp, from the f64
    copy of the reference model. Also how far transformers' own f32 forward is from it: the
    rounding scale a correct f32 implementation is allowed."""
    ids = tok(LOGITS_TEXT, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        f32 = ref(ids).logits[0].double()
        other = ours(ids).logits[0].double()
        ref64 = copy.deepcopy(ref).double()
        logits = ref64(ids).logits[0]
    rng = random.Random(11)
    probe = sorted(rng.sample(range(logits.shape[1]), PROBE_IDS))
    rows = []
    for pos in range(logits.shape[0]):
        row = logits[pos]
        top = torch.topk(row, 10)
        rows.append({
            "logsumexp": float(torch.logsumexp(row, 0)),
            "top_ids": top.indices.tolist(),
            "top_logits": top.values.tolist(),
            "probe_logits": row[probe].tolist(),
        })
    return {
        "text": LOGITS_TEXT,
        "input_ids": ids[0].tolist(),
        "probe_ids": probe,
        "dtype": "float64",
        "positions": rows,
        "max_abs_diff_transformers_f32_vs_f64": float((f32 - logits).abs().max()),
        "max_abs_diff_folder_vs_gguf_f32": float((f32 - other).abs().max()),
        "max_abs_logit": float(logits.abs().max()),
    }


def dump(name, obj):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def main():
    """Arguments pick sections (weights tokenizer logits greedy); none means all."""
    want = set(sys.argv[1:]) or {"weights", "tokenizer", "logits", "greedy"}
    torch.manual_seed(0)
    ref, ours = load_models()
    if "weights" in want:
        w = weights_fixture(ref, ours)
        print("weights: max |folder - gguf| =", w["max_abs_diff_folder_vs_gguf"])
        dump("weights.json", w)
    tok, tok_gguf, t = tokenizer_fixture()
    if "tokenizer" in want:
        bad = [c["text"] for c in t["cases"] if c["ids_folder"] != c["ids_gguf"]]
        print(f"tokenizer: {len(t['cases'])} strings, folder and gguf tokenizers differ on {len(bad)}: {bad}")
        dump("tokenizer.json", t)
    if "logits" in want:
        lg = logits_fixture(tok, ref, ours)
        print("logits: transformers f32 vs f64", lg["max_abs_diff_transformers_f32_vs_f64"],
              "folder vs gguf (f32)", lg["max_abs_diff_folder_vs_gguf_f32"], "max |logit|", lg["max_abs_logit"])
        dump("logits.json", lg)
    if "greedy" in want:
        g = greedy_fixture(tok, tok_gguf, ref, ours)
        for c in g["cases"]:
            print("greedy:", c["prompt"], "->", repr(c["greedy_text"]), "min margin", min(c["top2_margin"]))
        dump("greedy.json", g)


if __name__ == "__main__":
    main()
