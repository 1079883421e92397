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
import tempfile


def json_lines(cmd):
    """The JSON lines `cmd` prints, each with the process's peak resident memory (peak_rss_gib)
    and CPU seconds (process_cpu_s: user + system, all threads, model loading included) added,
    from the kernel's accounting of that one child (os.wait4). On a loaded machine the CPU
    seconds are the work done; the wall-clock seconds are mostly the wait for a core."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        out.seek(0)
        err.seek(0)
        if status != 0:
            sys.exit(f"{' '.join(cmd)} failed (wait status {status}):\n{err.read()[-2000:]}")
        rows = [json.loads(l) for l in out.read().splitlines() if l.startswith("{")]
    for r in rows:
        r["peak_rss_gib"] = usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux
        r["process_cpu_s"] = usage.ru_utime + usage.ru_stime
    return rows


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
    ap.add_argument("--json", action="store_true", help="also print every measured line")
    ap.add_argument("--skip-sample", action="store_true", help="the training step only")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"load average before: {os.getloadavg()}", flush=True)
    ours = [] if a.skip_sample else json_lines(
        [a.sharpen, "bench", "sample", "--model", a.model, "--batch-sizes", a.batch_sizes,
         "--new-tokens", str(a.new_tokens), "--repeats", str(a.repeats), "--device", "cpu"])
    ours += json_lines([a.sharpen, "bench", "train", "--model", a.model, "--batch", str(a.train_batch),
                        "--seq", str(a.train_seq), "--repeats", str(a.repeats), "--device", "cpu"])
    base = [a.python, os.path.join(here, "bench_baseline.py"), "--model", a.model,
            "--batch-sizes", a.batch_sizes, "--new-tokens", str(a.new_tokens), "--repeats", str(a.repeats),
            "--train-batch", str(a.train_batch), "--train-seq", str(a.train_seq), "--train-repeats", str(a.repeats)]
    # Sampling and training in separate processes, as ours, so that each peak is its own.
    theirs = [] if a.skip_sample else json_lines(base + ["--skip-train"])
    theirs += json_lines(base + ["--skip-sample"])
    print(f"load average after: {os.getloadavg()}")
    if a.json:
        print(json.dumps({"ours": ours, "theirs": theirs}))
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
        step_o = o["forward_backward_s"] + o.get("grad_norm_s", 0.0) + o["adamw_s"]
        step_t = t["forward_backward_s"] + t["adamw_s"]
        lines.append(f"| train {o['batch']}×{o['seq']}, whole step (ours with the clipping norm) | {step_o:.3f} | "
                     f"{step_t:.3f} | {step_t / step_o:.2f} |")
        lines.append(f"| train {o['batch']}×{o['seq']}, CPU seconds of the whole process (load included) | "
                     f"{o['process_cpu_s']:.1f} | {t['process_cpu_s']:.1f} | {t['process_cpu_s'] / o['process_cpu_s']:.2f} |")
        lines.append(f"| train {o['batch']}×{o['seq']}, peak RSS of the process, GiB (< 1: sharpen smaller) | "
                     f"{o['peak_rss_gib']:.2f} | {t['peak_rss_gib']:.2f} | {o['peak_rss_gib'] / t['peak_rss_gib']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
