#!/usr/bin/env python3
"""Render the chat templates of tests/fixtures/chat/*.jinja with Hugging Face transformers' own
Jinja environment and write the expected texts to tests/fixtures/chat/expected.json.

`strftime_now` is passed as undefined: sharpen leaves it undefined so that prompts do not
depend on the date (the Llama-3 template then uses its fixed fallback date).
Run from the repository root:  python scripts/make_chat_fixtures.py
"""
import json
import os
import jinja2
from transformers.utils.chat_template_utils import _compile_jinja_template

DIR = os.path.join("tests", "fixtures", "chat")
SPECIAL = {
    "smollm2-chatml": ("<|im_start|>", "<|im_end|>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2.5": ("", "<|im_end|>"),
    "qwen3": ("", "<|im_end|>"),
    "alternating": ("<s>", "</s>"),
}
CONVERSATIONS = [
    ([{"role": "user", "content": "What is 12 + 7?"}], True),
    ([{"role": "user", "content": "  Résumé: ünïcödé ✓ and trailing spaces   "}], False),
    ([{"role": "system", "content": "You are terse."},
      {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "<think>\nthe user greets\n</think>\n\nHello."},
      {"role": "user", "content": "Think step-by-step.\n\nLet's think step-by-step"}], True),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "<think>why</think>b"}], False),
]


def main():
    out = {}
    for name, (bos, eos) in SPECIAL.items():
        src = open(os.path.join(DIR, f"{name}.jinja")).read()
        tmpl = _compile_jinja_template(src)
        cases = []
        for messages, gen in CONVERSATIONS:
            try:
                text = tmpl.render(messages=messages, add_generation_prompt=gen, bos_token=bos, eos_token=eos,
                                   strftime_now=jinja2.Undefined())
                cases.append({"messages": messages, "add_generation_prompt": gen, "text": text})
            except Exception as e:  # raise_exception in the template
                cases.append({"messages": messages, "add_generation_prompt": gen, "error": str(e)})
        out[name] = {"bos_token": bos, "eos_token": eos, "cases": cases}
    with open(os.path.join(DIR, "expected.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
