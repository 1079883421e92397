#!/usr/bin/env python3
"""Helper of scripts/gpu/device-check.sh (standard library only: it runs on the GPU machine too).

  device_table.py collect TAG RC SECONDS STDOUT STDERR [MEMFILE IDLE_MIB]
      Prints one JSON line per JSON object the run wrote to STDOUT, each tagged with the run's
      name, exit status, wall time and (when MEMFILE holds nvidia-smi memory.used samples in MiB)
      the peak GPU memory above the idle level before the run; a run with no JSON output gives
      one line with its error.
  device_table.py render RESULTS.jsonl [--card NAME]
      Prints the Markdown tables: correctness checks, then ours vs PyTorch per shape.
"""
import json
import sys


def collect(tag, rc, seconds, stdout, stderr, memfile=None, idle=None):
    rows = []
    with open(stdout, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    smi_peak = None
    if memfile:
        try:
            with open(memfile) as f:
                samples = [float(x) for x in f.read().split() if x.replace(".", "", 1).isdigit()]
            if samples:
                smi_peak = round((max(samples) - float(idle or 0)) / 1024, 2)
        except OSError:
            pass
    meta = {"run": tag, "rc": int(rc), "wall_s": round(float(seconds), 1), "smi_peak_gib": smi_peak}
    if not rows:
        try:
            with open(stderr, errors="replace") as f:
                tail = [l.strip() for l in f if l.strip()]
        except OSError:
            tail = []
        rows = [{"error": tail[-1][:300] if tail else "no output"}]
    for r in rows:
        print(json.dumps({**meta, **r}))


def fmt(x, digits=1):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def yesno(x):
    return "-" if x is None else ("yes" if x else "NO")


def status(r):
    if r is None:
        return "not run"
    if r.get("skipped"):
        return "skipped"
    if r["rc"] == 124 or r["rc"] == 137:
        return "timeout"
    if r["rc"] != 0 or "error" in r:
        return f"failed (rc {r['rc']})"
    return None


def render(path, card):
    with open(path) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    out = []
    checks = [r for r in rows if r["run"] == "device"]
    out.append(f"card: {card}")
    out.append("")
    out.append("### Correctness (`sharpen bench device`)")
    out.append("")
    if checks and "check" in checks[0]:
        out.append("| check | max_err | tol | ok |")
        out.append("|---|---|---|---|")
        for r in checks:
            out.append(f"| {r['check']} | {r['max_err']:.3g} | {r['tol']:.3g} | {'yes' if r['ok'] else 'NO'} |")
        n_ok = sum(1 for r in checks if r.get("ok"))
        out.append("")
        out.append(f"{n_ok}/{len(checks)} checks ok")
    else:
        r = checks[0] if checks else None
        out.append(f"not available: {status(r) or 'no checks'}: {r.get('error', '') if r else ''}")
    out.append("")

    def one(stack, shape):
        for r in rows:
            if r["run"] == f"{stack}-{shape}":
                return r
        return None

    shapes = []
    for r in rows:
        if r["run"].startswith(("ours-", "torch-")):
            s = r["run"].split("-", 1)[1]
            if s not in shapes:
                shapes.append(s)
    out.append("### Throughput and memory (ours = `sharpen bench rl`, PyTorch = scripts/bench/bench_gpu_baseline.py)")
    out.append("")
    out.append(
        "| shape | ours rollout tok/s | PyTorch rollout tok/s | ratio | ours step s | PyTorch step s | ratio "
        "| ours peak GiB | PyTorch peak GiB |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|")
    for s in shapes:
        o, p = one("ours", s), one("torch", s)
        cells = [s]
        ok_o, ok_p = status(o) is None, status(p) is None
        # A run whose step failed still reports its rollout.
        ro = o.get("rollout_tok_s") if o else None
        rp = p.get("rollout_tok_s") if p else None
        cells.append(fmt(ro) if ro is not None else status(o))
        cells.append(fmt(rp) if rp is not None else status(p))
        cells.append(f"{ro / rp:.2f}×" if ro and rp else "-")
        cells.append(fmt(o["step_s"], 2) if ok_o else status(o))
        cells.append(fmt(p["step_s"], 2) if ok_p else status(p))
        cells.append(f"{p['step_s'] / o['step_s']:.2f}×" if ok_o and ok_p else "-")
        for r, ok in ((o, ok_o), (p, ok_p)):
            if not ok:
                cells.append("-")
            elif r.get("smi_peak_gib") is not None:
                cells.append(fmt(r["smi_peak_gib"], 1))
            else:
                cells.append(fmt(r.get("peak_gib"), 1))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append(
        "ratio: speedup of ours over PyTorch (rollout: ours tok/s / PyTorch tok/s; step: PyTorch s / ours s), "
        "> 1 means ours is faster. Peak GiB: nvidia-smi memory.used sampled every 200 ms, maximum minus the "
        "level before the run (the stack's own number where nvidia-smi is absent)."
    )
    out.append("")
    out.append("| run | batch | prompt | new | rollout s | step s | train tok/s | of it AdamW s | ref s | opt state | own peak GiB "
               "| smi peak GiB | grads_ok | wall s | status |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if not r["run"].startswith(("ours-", "torch-")):
            continue
        st = status(r) or "ok"
        if st != "ok" and r.get("error"):
            st += ": " + r["error"].replace("|", "/")[:120]
        out.append(
            f"| {r['run']} | {fmt(r.get('batch'))} | {fmt(r.get('prompt_len'))} | {fmt(r.get('new_tokens'))} "
            f"| {fmt(r.get('rollout_s'), 2)} | {fmt(r.get('step_s'), 2)} | {fmt(r.get('train_tok_s'))} "
            f"| {fmt(r.get('optimizer_s'), 2)} | {fmt(r.get('ref_s'), 2)} | {fmt(r.get('optimizer_state'))} "
            f"| {fmt(r.get('peak_gib'), 2)} | {fmt(r.get('smi_peak_gib'), 2)} | {yesno(r.get('grads_ok'))} "
            f"| {fmt(r.get('wall_s'))} | {st} |"
        )
    prof = [r for r in rows if r["run"].startswith("ours-") and (r.get("micro_batch_phases_s") or r.get("extras_error"))]
    if prof:
        out.append("")
        out.append("### Ours: where one micro-batch's backward goes (`bench rl --profile`, seconds)")
        out.append("")
        out.append("| run | forward | head | layers | embedding | state GiB (estimate) | step s by micro-batch |")
        out.append("|---|---|---|---|---|---|---|")
        for r in prof:
            ph = r["micro_batch_phases_s"]
            out.append(
                f"| {r['run']} | {fmt(ph.get('forward'), 3)} | {fmt(ph.get('head'), 3)} | {fmt(ph.get('layers'), 3)} "
                f"| {fmt(ph.get('embedding'), 3)} | {fmt(r.get('state_gib'), 1)} "
                f"| {', '.join(f'{k}: {v:.2f}' for k, v in (r.get('step_s_by_micro_batch') or {}).items())}"
                f"{' (extras failed: ' + r['extras_error'][:80].replace('|', '/') + ')' if r.get('extras_error') else ''} |"
            )
    print("\n".join(out))


def main(argv):
    if len(argv) >= 6 and argv[0] == "collect":
        collect(*argv[1:])
    elif len(argv) >= 2 and argv[0] == "render":
        card = argv[argv.index("--card") + 1] if "--card" in argv else "unknown"
        render(argv[1], card)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
