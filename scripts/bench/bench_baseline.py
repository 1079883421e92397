#!/usr/bin/env python3
"""PyTorch + transformers baseline for `sharpen bench sample|train` (CPU, f32).

Same prompts (the chat template around bench_prompts(), left-padded), same token counts,
sampling at temperature 1 with top-p 1 and no top-k, EOS suppressed so every row generates
exactly --new-tokens; then one 8x128 forward + backward of the mean next-token log-likelihood
with every weight trainable, and one AdamW step. Prints the same JSON lines as sharpen.

  python scripts/bench/bench_baseline.py --model DIR [--batch-sizes 1,8,32] [--new-tokens 128]
"""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def bench_prompts(n):
    # Keep in sync with bench_prompts() in src/bench_cmd.rs.
    return [f"Question {i}: a farmer has {3 + 7 * i} apples and buys {11 + 5 * i} more. "
            f"How many apples does the farmer have now?" for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--train-seq", type=int, default=128)
    ap.add_argument("--train-repeats", type=int, default=2)
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--skip-train", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok = AutoTokenizer.from_pretrained(a.model)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    eos = model.generation_config.eos_token_id
    pad = eos if isinstance(eos, int) else eos[0]

    if not a.skip_sample:
        sizes = [int(b) for b in a.batch_sizes.split(",")]
        texts = [tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
                 for p in bench_prompts(max(sizes))]

        def generate(b, n):
            enc = tok(texts[:b], return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.no_grad():
                out = model.generate(**enc, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                     max_new_tokens=n, min_new_tokens=n, pad_token_id=pad)
            return enc, out

        torch.manual_seed(0)
        generate(1, 4)  # warm-up
        for b in sizes:
            best = float("inf")
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                enc, out = generate(b, a.new_tokens)
                best = min(best, time.perf_counter() - t0)
                assert out.shape[1] - enc["input_ids"].shape[1] == a.new_tokens
            print(json.dumps({"impl": "transformers", "what": "sample", "batch": b, "new_tokens": a.new_tokens,
                              "prompt_tokens": int(enc["attention_mask"].sum()), "seconds": best,
                              "tokens_per_s": b * a.new_tokens / best}), flush=True)

    if not a.skip_train:
        model.train()
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(0, model.config.vocab_size, (a.train_batch, a.train_seq), generator=g)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
        fwd = bwd = step = float("inf")
        for _ in range(a.train_repeats):
            opt.zero_grad(set_to_none=True)
            t0 = time.perf_counter()
            logits = model(ids).logits
            lp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None])
            loss = -lp.mean()
            loss.item()
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt.step()
            t3 = time.perf_counter()
            fwd, bwd, step = min(fwd, t1 - t0), min(bwd, t2 - t1), min(step, t3 - t2)
        print(json.dumps({"impl": "transformers", "what": "train", "batch": a.train_batch, "seq": a.train_seq,
                          "forward_s": fwd, "backward_s": bwd, "forward_backward_s": fwd + bwd, "adamw_s": step}),
              flush=True)


if __name__ == "__main__":
    main()
