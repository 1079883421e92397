#!/usr/bin/env python3
"""Print the per-run table and the per-regime means of a sweep folder, as Markdown.

    python3 scripts/sweep/run-table.py runs/smollm2-confirm [--plan runs/smollm2-confirm/plan.txt]

Reads each run's log.jsonl (standard library only). A run is listed in the plan's order when a
plan is given (else by name); unfinished runs (no final evaluation) are marked so. The columns
are the ones the sweep READMEs quote: pass@1, pass@K and maj@K (K the largest evaluated k) of the
evaluation before the first and after the last step, the mean reply length of the first and last
training step, the KL to π_ref of the last step, and how many steps the gradient was clipped.
"""
import argparse
import json
import os
import statistics
import sys


def load(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    run = next((r for r in rows if r.get("kind") == "run"), None)
    steps = [r for r in rows if r.get("kind") == "step"]
    evals = [r for r in rows if r.get("kind") == "eval"]
    return run, steps, evals


def summary(name, path):
    run, steps, evals = load(path)
    if run is None or not steps or not evals:
        return None
    k = str(max(int(x) for x in evals[0]["pass_at_k"]))
    first, last = evals[0], evals[-1]
    finished = len(evals) >= 2 and last["step"] >= steps[-1]["step"] and \
        steps[-1]["step"] == run["config"]["steps"] - 1
    return {
        "name": name,
        "finished": finished,
        "k": k,
        "pass1": (first["pass_at_k"]["1"], last["pass_at_k"]["1"]),
        "passk": (first["pass_at_k"][k], last["pass_at_k"][k]),
        "majk": (first["maj_at_k"][k], last["maj_at_k"][k]),
        "length": (steps[0]["length"]["mean"], steps[-1]["length"]["mean"]),
        "kl": steps[-1]["kl_ref"],
        "clipped": sum(1 for s in steps if s["clipped"]),
        "steps": len(steps),
    }


def regime_of(name):
    # Run names are REGIME-sSEED (plan.txt's convention).
    return name.rsplit("-s", 1)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--plan", help="plan.txt whose run order to follow")
    args = ap.parse_args()
    if not os.path.isdir(args.dir):
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        sys.exit(2)
    if args.plan:
        names = [line.split()[0] for line in open(args.plan)
                 if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    else:
        names = sorted(os.listdir(args.dir))
    runs = []
    for name in names:
        log = os.path.join(args.dir, name, "log.jsonl")
        if os.path.isfile(log):
            s = summary(name, log)
            if s:
                runs.append(s)
    if not runs:
        print(f"error: no run logs under {args.dir}", file=sys.stderr)
        sys.exit(2)
    k = runs[0]["k"]
    arrow = lambda p: f"{p[0]:.3f} → {p[1]:.3f}"
    print(f"| run | pass@1 (start → end) | pass@{k} | maj@{k} | mean length (first → last step) "
          "| KL to π_ref at the end (nats) | clipped steps |")
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        mark = "" if r["finished"] else " (unfinished)"
        print(f"| {r['name']}{mark} | {arrow(r['pass1'])} | {arrow(r['passk'])} | {arrow(r['majk'])} "
              f"| {r['length'][0]:.1f} → {r['length'][1]:.1f} | {r['kl']:.1f} "
              f"| {r['clipped']}/{r['steps']} |")

    print()
    print(f"| regime | finished runs | pass@1 end | pass@{k} end | maj@{k} end | mean length last step "
          "| KL at the end | runs whose pass@{k} fell by > 0.1 |".replace("{k}", k))
    print("|---|---|---|---|---|---|---|---|")
    order = []
    for r in runs:
        if regime_of(r["name"]) not in order:
            order.append(regime_of(r["name"]))
    for reg in order:
        rs = [r for r in runs if regime_of(r["name"]) == reg and r["finished"]]
        if not rs:
            continue
        m = lambda f: statistics.mean(f(r) for r in rs)
        fell = sum(1 for r in rs if r["passk"][1] < r["passk"][0] - 0.1)
        print(f"| {reg} | {len(rs)} | {m(lambda r: r['pass1'][1]):.3f} | {m(lambda r: r['passk'][1]):.3f} "
              f"| {m(lambda r: r['majk'][1]):.3f} | {m(lambda r: r['length'][1]):.1f} "
              f"| {m(lambda r: r['kl']):.1f} | {fell}/{len(rs)} |")


if __name__ == "__main__":
    main()
