#!/usr/bin/env python3
"""Label verifier fixtures with the authors' exact Math-Verify call (the RL task reward).

The reference (nemo_rl/environments/math_environment.py in sarthmit/dist_sharpening):

    f = math_metric(gold_extraction_target=(LatexExtractionConfig(),),
                    pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()))
    score, _ = f(["\\boxed{" + gold + "}"], [response])      # any exception -> 0

Setup (outside the repository; never commit the venv):

    python3 -m venv ../venv-mv
    ../venv-mv/bin/pip install math-verify==0.8.0 latex2sympy2_extended==1.10.2 sympy==1.14.0

Usage:

    make_fixture.py --data DATA_DIR --math-verify-tests MV_REPO/tests --out verify/tests/fixtures

DATA_DIR holds the six datasets as <name>/test.jsonl (gsm8k, math, math500, minerva, aime24,
amc23). MV_REPO is a checkout of github.com/huggingface/Math-Verify; only the (gold, pred)
strings of its parametrized tests are read (with `ast`, nothing is imported from it), and they
are relabelled with the authors' call. Outputs:

    authors_call.jsonl        {"response", "gold", "verdict", "class", "dataset"} (seeded, >= 1500)
    math_verify_suite.jsonl   {"response", "gold", "verdict", "class"} from Math-Verify's tests

Speed: scripts/verify/bench_math_verify.py times the same call on a committed fixture.
"""
import argparse
import ast
import json
import multiprocessing as mp
import os
import random
import re
import sys

SEED = 20261130
PER_CASE_TIMEOUT_S = 20


def authors_score(response, gold):
    from math_verify.metric import math_metric
    from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig

    f = math_metric(
        gold_extraction_target=(LatexExtractionConfig(),),
        pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()),
    )
    try:
        score, _ = f(["\\boxed{" + gold + "}"], [response])
        return bool(score > 0.5)
    except BaseException:  # the authors' wrapper turns anything (timeouts too) into 0
        return False


def _label_one(case):
    import logging

    logging.disable(logging.CRITICAL)
    return authors_score(case["response"], case["gold"])


def label_all(cases):
    # Separate worker processes (math-verify's SIGALRM timeouts need each its own main thread);
    # a case hung beyond PER_CASE_TIMEOUT_S counts as 0, like the authors' timeout.
    with mp.Pool(max(1, min(4, os.cpu_count() or 1)), maxtasksperchild=200) as pool:
        handles = [pool.apply_async(_label_one, (c,)) for c in cases]
        out = []
        for h in handles:
            try:
                out.append(bool(h.get(timeout=PER_CASE_TIMEOUT_S)))
            except mp.TimeoutError:
                out.append(False)
        return out


# ---------------------------------------------------------------- golds from the six datasets


def last_boxed(text):
    i = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if i < 0:
        return None
    j = text.find("{", i)
    if j < 0:
        return None
    depth = 0
    for k in range(j, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return text[j + 1:k]
    return None


def number_answer(x):
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def load_golds(data_dir):
    golds = {}
    spec = {
        "gsm8k": lambda r: r["answer"].split("####")[-1].strip() if "####" in r["answer"] else None,
        "math": lambda r: last_boxed(r["solution"]),
        "math500": lambda r: str(r["answer"]),
        "minerva": lambda r: last_boxed(r["solution"]),
        "aime24": lambda r: str(r["answer"]),
        "amc23": lambda r: number_answer(r["answer"]),
    }
    for name, get in spec.items():
        path = os.path.join(data_dir, name, "test.jsonl")
        rows = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    g = get(json.loads(line))
                    if g and g.strip():
                        rows.append(g.strip())
        golds[name] = rows
    return golds


# ---------------------------------------------------------------- response generator

COT = [
    "Let's think step by step. First we set up the equation from the problem statement and "
    "simplify both sides.",
    "We start by noting the given quantities. Multiplying out gives $2 \\cdot 3 = 6$, and then "
    "we combine the remaining terms carefully.",
    "To solve this, recall the relevant identity. Substituting the values, we find that the "
    "expression reduces nicely. Checking: the intermediate value is 12, which is consistent.",
    "Step 1: Understand the problem.\nStep 2: Compute the intermediate result, $a = 4$.\n"
    "Step 3: Combine everything.",
    "Okay, so I need to figure this out. Hmm, let me think. If we let $x$ be the unknown, then "
    "the condition becomes an equation in $x$. Wait, let me double check the arithmetic: "
    "$15 - 3 = 12$. Yes.",
    "",
]


def is_int(s):
    return re.fullmatch(r"-?\d+", s) is not None


def is_dec(s):
    return re.fullmatch(r"-?\d+\.\d+", s) is not None


FRAC = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")


def rewrites(g, rng):
    """Equivalent rewritings of a gold answer, in forms models write; each with its class."""
    out = []
    if is_int(g):
        n = int(g)
        out.append((f"{n}.0", "float-of-int"))
        if abs(n) >= 1000:
            out.append((f"{n:,}", "thousands-comma"))
            out.append((f"{n:,}".replace(",", "\\,"), "thousands-thinspace"))
        out.append((f"\\${n}", "currency"))
        out.append((f"{n} \\text{{ dollars}}", "units-text"))
        out.append((f"{n}\\%", "percent"))
        out.append((f"\\frac{{{2 * n}}}{{2}}", "fraction-of-int"))
        out.append((f"{n} + 0", "expression"))
    elif is_dec(g):
        out.append((g + "0", "trailing-zero"))
        out.append((g.replace(".", ","), "decimal-comma"))
        x = float(g)
        for den in (2, 4, 5, 8, 10, 20, 25, 100):
            if abs(x * den - round(x * den)) < 1e-12:
                out.append((f"\\frac{{{round(x * den)}}}{{{den}}}", "decimal-as-fraction"))
                break
    m = FRAC.match(g)
    if m:
        sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        if b:
            out.append((f"{sign}\\dfrac{{{a}}}{{{b}}}", "dfrac"))
            out.append((f"{sign}{a}/{b}", "slash-fraction"))
            out.append((f"{sign}{a / b:.6f}", "float-of-fraction"))
            out.append((f"{sign}{a / b:.3f}", "float-of-fraction-short"))
            out.append((f"{sign}\\frac{{{2 * a}}}{{{2 * b}}}", "unreduced-fraction"))
            out.append((f"{sign}\\cfrac{{{a}}}{{{b}}}", "cfrac"))
    if "\\sqrt" in g:
        out.append((g.replace("\\sqrt", "\\sqrt "), "sqrt-spacing"))
    if re.search(r"[a-z]", g) and "\\" not in g and len(g) < 30:
        out.append((g.replace("*", ""), "plain-symbolic"))
    if g.startswith("(") and g.endswith(")") and "," in g:
        out.append((g.replace(",", ", "), "tuple-spacing"))
        out.append((g.replace("(", "\\left(").replace(")", "\\right)"), "left-right"))
    if "\\frac" in g:
        out.append((g.replace("\\frac", "\\dfrac"), "dfrac"))
    out.append((f"{g}", "identical"))
    out.append((f" {g} ", "spaces"))
    return out


def near_misses(g, rng):
    out = []
    if is_int(g):
        n = int(g)
        out.append((str(n + rng.choice([1, -1, 10, 2])), "wrong-int"))
        out.append((str(-n) if n else "1", "wrong-sign"))
        out.append((f"{n}.5", "wrong-decimal"))
        if abs(n) >= 1000:
            s = f"{n:,}"
            out.append((s.replace(",", ", "), "spaced-thousands"))
    elif is_dec(g):
        x = float(g)
        out.append((f"{x + 0.01:.4f}".rstrip("0"), "wrong-decimal"))
        out.append((f"{round(x, 1)}", "rounded-decimal"))
    m = FRAC.match(g)
    if m:
        sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        out.append((f"{sign}\\frac{{{b}}}{{{a}}}" if a else "1", "inverted-fraction"))
        out.append((f"{sign}\\frac{{{a + 1}}}{{{b}}}", "wrong-fraction"))
        if b:
            out.append((f"{sign}{a / b:.2f}", "float-low-precision"))
    if "\\sqrt" in g:
        out.append((g.replace("\\sqrt", "", 1), "dropped-sqrt"))
    if g.startswith("(") and g.endswith(")") and "," in g:
        parts = g[1:-1].split(",")
        out.append(("(" + ",".join(reversed(parts)) + ")", "reversed-tuple"))
    if re.search(r"[a-z]", g):
        out.append((g.replace("x", "y").replace("a", "b"), "renamed-variable"))
        out.append((g + "+1", "extra-term"))
    if not out:
        out.append(("0" if g != "0" else "1", "wrong-generic"))
    return out


def wrap(ans, style, rng, gold_for_list=None):
    """A whole response ending with the answer in one of the forms instruct models use."""
    cot = rng.choice(COT)
    sep = "\n\n" if cot else ""
    forms = {
        "boxed": f"{cot}{sep}Therefore, the answer is $\\boxed{{{ans}}}$.",
        "boxed-bare": f"{cot}{sep}\\boxed{{{ans}}}",
        "boxed-display": f"{cot}{sep}So we get\n\\[\n\\boxed{{{ans}}}\n\\]",
        "final-answer-is": f"{cot}{sep}The final answer is ${ans}$. I hope it is correct.",
        "final-answer-bold": f"{cot}{sep}**Final Answer**\n\\[ \\boxed{{{ans}}} \\]",
        "answer-colon-plain": f"{cot}{sep}**Answer:** {ans}",
        "answer-colon-math": f"{cot}{sep}Answer: ${ans}$",
        "hashes": f"{cot}{sep}#### {ans}",
        "answer-is-plain": f"{cot}{sep}The answer is {ans}.",
        "answer-is-math": f"{cot}{sep}The answer is ${ans}$.",
        "equals-last": f"{cot}{sep}Putting it together, $x = {ans}$.",
        "inline-paren": f"{cot}{sep}Hence the result is \\({ans}\\).",
        "last-number": f"{cot}{sep}So in total we get {ans}",
    }
    return forms[style]


STYLES = ["boxed", "boxed", "boxed", "boxed-bare", "boxed-display", "final-answer-is",
          "final-answer-bold", "answer-colon-plain", "answer-colon-math", "hashes",
          "answer-is-plain", "answer-is-math", "equals-last", "inline-paren", "last-number"]


def gen_cases(golds, n_per_dataset, rng):
    cases = []
    for name, rows in golds.items():
        pick = rows[:] if len(rows) <= n_per_dataset else rng.sample(rows, n_per_dataset)
        for g in pick:
            kind = rng.random()
            if kind < 0.40:
                ans, cls = rng.choice(rewrites(g, rng))
                style = rng.choice(STYLES)
                cases.append((wrap(ans, style, rng), g, f"equiv:{cls}:{style}", name))
            elif kind < 0.65:
                ans, cls = rng.choice(near_misses(g, rng))
                style = rng.choice(STYLES)
                cases.append((wrap(ans, style, rng), g, f"miss:{cls}:{style}", name))
            elif kind < 0.77:
                # several boxed values: a corrected guess, a repeat, or a list
                wrong = rng.choice(near_misses(g, rng))[0]
                sub = rng.choice(["retry-near", "retry-far", "repeat", "list", "wrong-last"])
                cot = rng.choice(COT)
                r = {
                    "retry-near": f"{cot}\nFirst try: \\boxed{{{wrong}}}. No: \\boxed{{{g}}}",
                    "retry-far": f"{cot}\nInitially I got \\boxed{{{wrong}}} but after checking every "
                                 f"step again carefully the result must be \\boxed{{{g}}}",
                    "repeat": f"{cot}\nSo \\boxed{{{g}}} and again \\boxed{{{g}}}",
                    "list": f"{cot}\nThe values are \\boxed{{{g}}} and \\boxed{{{wrong}}}",
                    "wrong-last": f"{cot}\nIt is \\boxed{{{g}}}. Hmm, actually \\boxed{{{wrong}}}",
                }[sub]
                cases.append((r, g, f"multi-boxed:{sub}", name))
            elif kind < 0.85:
                # truncated responses (generation cut at the token limit)
                full = wrap(g, rng.choice(["boxed", "boxed-bare", "final-answer-is"]), rng)
                cut = rng.randint(max(1, len(full) // 2), len(full) - 1) if len(full) > 2 else 1
                cases.append((full[:cut], g, "truncated", name))
            elif kind < 0.93:
                # the gold written the way the dataset has it, inside a long chain of thought
                # with many other numbers
                r = (f"{rng.choice(COT)} We check $n = 3$, $n = 4$ and $n = 17$. "
                     f"The sum is 42 and the product 1,024.\n\nThe final answer is "
                     f"$\\boxed{{{g}}}$")
                cases.append((r, g, "long-cot-boxed", name))
            else:
                # no answer at all / empty
                r = rng.choice(["", "I don't know.", rng.choice(COT), "\\boxed{}"])
                cases.append((r, g, "no-answer", name))
    return cases


# ---------------------------------------------------------------- harder forms (the classes)


def sympy_rewrites(g):
    """Equivalent LaTeX of a gold computed with sympy (expanded, factored, together, decimal)."""
    import logging

    logging.disable(logging.CRITICAL)
    out = []
    try:
        import sympy
        from latex2sympy2_extended.latex2sympy2 import latex2sympy

        e = latex2sympy(g, is_real=True, normalization_config=None)
        if not isinstance(e, sympy.Expr):
            return out
        for name, f in (("expand", sympy.expand), ("factor", sympy.factor), ("together", sympy.together),
                        ("apart", lambda x: sympy.apart(x) if len(x.free_symbols) == 1 else x)):
            try:
                r = sympy.latex(f(e))
                if r and r != g and len(r) < 120:
                    out.append((r, "symbolic-" + name))
            except Exception:
                pass
        if not e.free_symbols:
            try:
                v = float(e.evalf())
                out.append((f"{v:.6f}", "float-6"))
                out.append((f"{v:.3f}", "float-3"))
                out.append((f"{v:.10f}", "float-10"))
            except Exception:
                pass
    except Exception:
        pass
    return out


def hard_cases(golds, n_per_dataset, rng):
    """The forms the issue lists: lists joined by ; / or / and, labelled answers, equation
    chains, \\approx, inequalities and intervals, equivalent equations, decimal commas, floats
    vs fractions, \\cfrac, \\pm, answers outside math mode, thousands separators, sympy-computed
    symbolic rewritings (expanded, factored, together) and their near misses."""
    cases = []
    for name, rows in golds.items():
        pick = rows[:] if len(rows) <= n_per_dataset else rng.sample(rows, n_per_dataset)
        for g in pick:
            cot = rng.choice(COT)
            forms = []
            for ans, cls in sympy_rewrites(g):
                forms.append((f"{cot}\n\nThus the answer is $\\boxed{{{ans}}}$.", f"hard:{cls}"))
            forms += [
                (f"{cot}\nSo $x = {g}$, i.e. \\boxed{{x = {g}}}", "hard:labelled-x"),
                (f"{cot}\nTherefore \\boxed{{f(x) = {g}}}", "hard:labelled-f"),
                (f"{cot}\nThe result is \\boxed{{{g} \\approx 1.5}}", "hard:approx-after"),
                (f"{cot}\nWe get $y = 2 + 3 = {g}$", "hard:equation-chain"),
                (f"{cot}\n**Answer:** {g}", "hard:answer-outside-math"),
                (f"{cot}\n**Answer:** ${g}$", "hard:answer-bold-math"),
                (f"{cot}\nThe answer is: {g}, 5, 7", "hard:answer-list-plain"),
                (f"{cot}\nThe answers are $\\boxed{{{g}}}$ or $\\boxed{{-1}}$", "hard:or-list"),
                (f"{cot}\nSolutions: ${g}$; $7$", "hard:semicolon-list"),
                (f"{cot}\n\\[\\boxed{{\\pm {g}}}\\]", "hard:pm"),
                (f"{cot}\nIn the end, {g} is what we get.", "hard:sentence-number"),
                (f"{cot}\nThe final answer is {g}", "hard:final-answer-plain"),
            ]
            if "," in g and not g.startswith(("(", "[", "\\{")):
                parts = [x.strip() for x in g.split(",")]
                forms += [
                    (f"{cot}\n" + " and ".join(f"\\boxed{{{x}}}" for x in parts), "hard:list-boxed-and"),
                    (f"{cot}\nThe values are ${'$ and $'.join(parts)}$.", "hard:list-math-and"),
                    (f"{cot}\n\\boxed{{{'; '.join(parts)}}}", "hard:list-semicolon"),
                    (f"{cot}\n\\boxed{{{', '.join(reversed(parts))}}}", "hard:list-reversed"),
                ]
            if re.fullmatch(r"[\(\[]-?[^,]+,[^,]+[\)\]]", g):
                lo, hi = g[1:-1].split(",")
                lop = "<" if g[0] == "(" else "\\le"
                hop = "<" if g[-1] == ")" else "\\le"
                forms += [
                    (f"{cot}\n\\boxed{{{lo.strip()} {lop} x {hop} {hi.strip()}}}", "hard:interval-as-inequality"),
                    (f"{cot}\n\\boxed{{(x, y) = {g}}}", "hard:labelled-tuple"),
                ]
            m = re.fullmatch(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}", g)
            if m and int(m.group(3)) != 0:
                a, b = int(m.group(2)), int(m.group(3))
                v = a / b * (-1 if m.group(1) else 1)
                forms += [
                    (f"{cot}\n\\boxed{{{v:.4f}}}", "hard:float-4-of-fraction"),
                    (f"{cot}\n\\boxed{{{v:.6f}}}", "hard:float-6-of-fraction"),
                    (f"{cot}\n\\boxed{{{m.group(1)}\\cfrac{{{a}}}{{{b}}}}}", "hard:cfrac"),
                    (f"{cot}\n\\boxed{{{m.group(1)}\\frac{{{a}}}{{{b}}} \\approx {v:.3f}}}", "hard:fraction-approx"),
                    (f"{cot}\n**Answer:** {m.group(1)}\\dfrac{{{a}}}{{{b}}}", "hard:dfrac-outside-math"),
                ]
            if is_int(g) and abs(int(g)) >= 1000:
                n = int(g)
                t = f"{n:,}"
                forms += [
                    (f"{cot}\nThe total is {t.replace(',', ', ')}", "hard:spaced-thousands"),
                    (f"{cot}\nThe total is \\boxed{{{t.replace(',', '{,}')}}}", "hard:brace-comma-thousands"),
                    (f"{cot}\nThe total is {t.replace(',', ' ')} dollars", "hard:space-thousands"),
                ]
            if is_dec(g):
                forms.append((f"{cot}\nAnswer: {g.replace('.', ',')}", "hard:decimal-comma-plain"))
                forms.append((f"{cot}\n\\boxed{{{g}e0}}", "hard:e-notation"))
            if re.fullmatch(r"-?\d+(\.\d+)?", g):
                forms.append((f"{cot}\nThe value is {g}e0", "hard:e-notation-plain"))
                forms.append((f"{cot}\n$$\\boxed{{{g}\\%}}$$", "hard:percent-boxed"))
                forms.append((f"{cot}\nThe matrix is $\\begin{{pmatrix}} {g} & 0 \\\\ 0 & 1 \\end{{pmatrix}}$ and the answer is ${g}$", "hard:matrix-in-sentence"))
            if re.search(r"[a-z]", g.replace("\\frac", "").replace("\\sqrt", "").replace("\\pi", "")):
                forms.append((f"{cot}\n\\boxed{{{g} + 0}}", "hard:plus-zero"))
                forms.append((f"{cot}\n\\boxed{{2\\left({g}\\right)/2}}", "hard:scaled"))
            for r, cls in rng.sample(forms, min(len(forms), 3)):
                cases.append((r, g, cls, name))
    return cases


# ---------------------------------------------------------------- Math-Verify's public tests


def suite_cases(tests_dir):
    """(gold, pred) string pairs from every parametrized test in Math-Verify's tests/."""
    out = []
    for fn in sorted(os.listdir(tests_dir)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        tree = ast.parse(open(os.path.join(tests_dir, fn), encoding="utf-8").read())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Tuple) or len(node.elts) < 3:
                continue
            a, b = node.elts[0], node.elts[1]
            if not (isinstance(a, ast.Constant) and isinstance(a.value, str)
                    and isinstance(b, ast.Constant) and isinstance(b.value, str)):
                continue
            out.append((b.value, a.value, f"suite:{fn[:-3]}"))
    seen, uniq = set(), []
    for c in out:
        if (c[0], c[1]) not in seen:
            seen.add((c[0], c[1]))
            uniq.append(c)
    return uniq


def spec_cases(path):
    """Examples written as `gold | response` → 0/1 in a markdown spec (`\\n` is a newline)."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r"`([^`|]*?) \| ([^`]*?)` → ([01])", text):
        out.append({"response": m.group(2).replace("\\n", "\n"), "gold": m.group(1), "class": "spec"})
    return out


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def gold_answer(gold):
    """`sharpen verify`'s reading of a gold field: last box, else after ####, else itself."""
    if "\\boxed" in gold or "\\fbox" in gold:
        return last_boxed(gold)
    if "####" in gold:
        return gold.split("####")[-1].strip() or None
    return gold.strip() or None


def relabel_cases(path):
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    flipped = 0
    for r in rows:
        g = gold_answer(r["gold"])
        v = authors_score(r["pred"], g) if g else False
        if v != r["correct"]:
            flipped += 1
            r["note"] = r.get("note", "") + f" [the authors' call says {str(v).lower()}]"
        r["correct"] = v
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)} cases relabelled with the authors' call, {flipped} labels changed", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with <dataset>/test.jsonl")
    ap.add_argument("--math-verify-tests", required=True, help="Math-Verify checkout's tests/ folder")
    ap.add_argument("--out", required=True, help="folder for the fixture files")
    ap.add_argument("--per-dataset", type=int, default=450)
    ap.add_argument("--seed", type=int, default=SEED, help="another seed gives a held-out set")
    ap.add_argument("--spec-notes", metavar="MD",
                    help="optional: a behaviour-spec markdown whose examples are written `gold | response` -> 0/1; "
                         "they are relabelled with the authors' call into spec_examples.jsonl")
    ap.add_argument("--relabel-cases", metavar="JSONL",
                    help="only relabel a {pred, gold, correct, note} file (tests/data/verifier_cases.jsonl) "
                         "in place with the authors' call, the gold read as `sharpen verify` reads it")
    args = ap.parse_args()
    if args.relabel_cases:
        relabel_cases(args.relabel_cases)
        return

    rng = random.Random(args.seed)
    golds = load_golds(args.data)
    gen = gen_cases(golds, args.per_dataset, rng)
    gen += hard_cases(golds, args.per_dataset // 3, rng)
    cases = [{"response": r, "gold": g, "class": c, "dataset": d} for (r, g, c, d) in gen]
    suite = [{"response": r, "gold": g, "class": c} for (r, g, c) in suite_cases(args.math_verify_tests)]

    os.makedirs(args.out, exist_ok=True)
    outputs = [("authors_call.jsonl", cases), ("math_verify_suite.jsonl", suite)]
    if args.spec_notes:
        outputs.append(("spec_examples.jsonl", spec_cases(args.spec_notes)))
    for name, rows in outputs:
        verdicts = label_all(rows)
        labelled = [{**r, "verdict": v} for r, v in zip(rows, verdicts)]
        write_jsonl(os.path.join(args.out, name), labelled)
        pos = sum(verdicts)
        print(f"{name}: {len(rows)} cases, {pos} scored 1 by the authors' call", file=sys.stderr)


if __name__ == "__main__":
    main()
