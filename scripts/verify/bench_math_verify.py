#!/usr/bin/env python3
"""Math-Verify's speed on a committed fixture, single-threaded, with the authors' exact call:
the number to put beside `cargo bench -p sharpen-verify` (same cases).

    bench_math_verify.py verify/tests/fixtures/authors_call.jsonl [--limit N]

Needs the venv described in make_fixture.py. Also reports how many verdicts differ from the
fixture's labels (0 expected: the labels were made by the same call).
"""
import argparse
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixture import authors_score  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    rows = [json.loads(l) for l in open(args.fixture, encoding="utf-8") if l.strip()]
    if args.limit:
        rows = rows[: args.limit]
    authors_score("\\boxed{1}", "1")  # warm-up: imports and regex compilation
    t0 = time.perf_counter()
    out = [authors_score(r["response"], r["gold"]) for r in rows]
    dt = time.perf_counter() - t0
    diff = sum(a != r["verdict"] for a, r in zip(out, rows))
    print(f"math-verify single-threaded: {len(rows)} verifications in {dt:.2f}s = "
          f"{len(rows) / dt:.1f} verifications/s ({sum(out)} scored 1; {diff} differ from the labels)")


if __name__ == "__main__":
    main()
