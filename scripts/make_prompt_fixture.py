#!/usr/bin/env python3
"""Render the authors' chain-of-thought prompt exactly as their data processor does
(`prompt.format(problem)`, NeMo RL's math_hf_data_processor) and write the bytes to
tests/fixtures/prompt/cot_expected.txt, which tests/data_load.rs compares with ours.

Usage: python scripts/make_prompt_fixture.py PATH/TO/examples/prompts/cot.txt
(cot.txt is in the authors' repository, sarthmit/dist_sharpening.)
"""
import os
import sys

# A problem with LaTeX, braces and backslashes: str.format must leave the argument untouched.
PROBLEM = "Compute $\\frac{1}{2} + {x}$ where $x = \\boxed{3}$."


def main():
    template = open(sys.argv[1], encoding="utf-8").read()
    out = os.path.join("tests", "fixtures", "prompt")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "problem.txt"), "w", encoding="utf-8") as f:
        f.write(PROBLEM)
    with open(os.path.join(out, "cot_expected.txt"), "w", encoding="utf-8") as f:
        f.write(template.format(PROBLEM))


if __name__ == "__main__":
    main()
