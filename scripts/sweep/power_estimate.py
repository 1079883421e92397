#!/usr/bin/env python3
"""Power estimate for a confirmation sweep, from the logs of earlier runs.

    python3 scripts/sweep/power_estimate.py runs/smollm2-long [--runs 2 4 6] [--problems 16 32 64]

For each regime folder group (NAME-sSEED) it reads the first and last in-run evaluations and
projects the 95% half-width that `sharpen check` would give to the pass@1 gain (P1, P2) and to
the change of pass@k at the largest k (P3) with R runs of n evaluation problems each. Those
checks use the [0, 1]-bounded variance of each evaluation, so the half-width is

    1.96 * sqrt(sum over runs of (pa(1-pa) + pb(1-pb)) / n) / R,

which, with the per-run variance taken as the mean of the earlier runs, is
1.96 * sqrt(mean_var / (n R)). Trend and window checks with three or more runs bootstrap over
runs instead; for those the script prints the spread of the earlier runs' per-run statistic,
so that the reader can see whether four runs on the same side of the threshold are likely.
Standard library only.
"""
import argparse
import collections
import json
import math
import pathlib
import re


def load(path):
    evals, steps = [], []
    for line in path.open():
        r = json.loads(line)
        if r.get("kind") == "eval":
            evals.append(r)
        elif r.get("kind") == "step":
            steps.append(r)
    return evals, steps


def slope(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 100 if sxx else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, nargs="+", default=[2, 4, 6])
    ap.add_argument("--problems", type=int, nargs="+", default=[16, 32, 64])
    a = ap.parse_args()
    groups = collections.defaultdict(list)
    for log in sorted(pathlib.Path(a.dir).glob("*/log.jsonl")):
        groups[re.sub(r"-s\d+$", "", log.parent.name)].append(load(log))
    for name, runs in groups.items():
        gains, vars1, kchanges, varsk, lens = [], [], [], [], []
        for evals, steps in runs:
            if len(evals) < 2:
                continue
            ea, eb = evals[0], evals[-1]
            pa, pb = ea["pass_at_k"]["1"], eb["pass_at_k"]["1"]
            gains.append(pb - pa)
            vars1.append(pa * (1 - pa) + pb * (1 - pb))
            k = max(ea["pass_at_k"], key=int)
            qa, qb = ea["pass_at_k"][k], eb["pass_at_k"][k]
            kchanges.append(qb - qa)
            varsk.append(qa * (1 - qa) + qb * (1 - qb))
            lens.append(slope([s["step"] for s in steps], [s["length"]["mean"] for s in steps]))
        if not gains:
            continue
        mean = lambda v: sum(v) / len(v)
        print(f"{name}: {len(gains)} runs; pass@1 gain per run {[round(g, 3) for g in gains]} "
              f"(mean {mean(gains):+.3f}); pass@{k} change {[round(c, 3) for c in kchanges]} "
              f"(mean {mean(kchanges):+.3f}); length slope per 100 steps {[round(s, 1) for s in lens]}")
        for r in a.runs:
            cells = []
            for n in a.problems:
                h1 = 1.96 * math.sqrt(mean(vars1) / (n * r))
                hk = 1.96 * math.sqrt(mean(varsk) / (n * r))
                cells.append(f"n={n}: ±{h1:.3f} (pass@1) ±{hk:.3f} (pass@{k})")
            print(f"  R={r}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
