#!/usr/bin/env python3
"""Run sharpen's CPU benchmarks and the PyTorch + transformers baseline back to back on one model
folder, and print both with the ratios (the measurement of issue "Performance").

    python scripts/bench/compare.py --model models/SmolLM2-135M-Instruct [--sharpen target/release/sharpen]

Both sides time the same work: sampling at batch 1, 8 and 32 with 128 new tokens (EOS ignored),
and one training step (forward + backward of −mean log p over an 8 × 128 batch, then AdamW).
The baseline needs requirements/bench.txt. The machine's load is printed with the numbers.
"""
import argparse
import json
import os
import subprocess
import sys


def json_lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sharpen", default="target/release/sharpen")
    ap.add_argument("--python", default=sys.executable, help="the interpreter with torch + transformers")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--train-seq", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"load average before: {os.getloadavg()}", flush=True)
    ours = json_lines([a.sharpen, "bench", "sample", "--model", a.model, "--batch-sizes", a.batch_sizes,
                       "--new-tokens", str(a.new_tokens), "--repeats", str(a.repeats), "--device", "cpu"])
    ours += json_lines([a.sharpen, "bench", "train", "--model", a.model, "--batch", str(a.train_batch),
                        "--seq", str(a.train_seq), "--repeats", str(a.repeats), "--device", "cpu"])
    theirs = json_lines([a.python, os.path.join(here, "bench_baseline.py"), "--model", a.model,
                         "--batch-sizes", a.batch_sizes, "--new-tokens", str(a.new_tokens),
                         "--repeats", str(a.repeats), "--train-batch", str(a.train_batch),
                         "--train-seq", str(a.train_seq), "--train-repeats", str(a.repeats)])
    print(f"load average after: {os.getloadavg()}")
    print(table(ours, theirs))


def table(ours, theirs):
    """Rows of the two sides side by side; a ratio above 1 means sharpen is faster."""
    def pick(rows, what, key, value):
        return next((r for r in rows if r["what"] == what and r.get(key) == value), None)
    lines = ["| measure | sharpen | PyTorch | speed of sharpen / PyTorch (> 1: sharpen faster) |", "|---|---|---|---|"]
    for r in (r for r in ours if r["what"] == "sample"):
        t = pick(theirs, "sample", "batch", r["batch"])
        if t:
            lines.append(f"| sampling b{r['batch']}, tok/s | {r['tokens_per_s']:.1f} | {t['tokens_per_s']:.1f} | "
                         f"{r['tokens_per_s'] / t['tokens_per_s']:.2f} |")
    o, t = pick(ours, "train", "what", "train"), pick(theirs, "train", "what", "train")
    if o and t:
        for k in ["forward_s", "backward_s", "forward_backward_s", "adamw_s"]:
            lines.append(f"| train {o['batch']}×{o['seq']}, {k} | {o[k]:.3f} | {t[k]:.3f} | {t[k] / o[k]:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
