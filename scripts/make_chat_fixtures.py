#!/usr/bin/env python3
"""Render the chat templates of tests/fixtures/chat/*.jinja with Hugging Face transformers' own
Jinja environment and write the expected texts to tests/fixtures/chat/expected.json.

transformers' own `strftime_now` (datetime.now().strftime) runs with the clock frozen at NOW_UNIX
(UTC), which each template's entry records so that the test renders at the same instant.
Run from the repository root:  python scripts/make_chat_fixtures.py
"""
import datetime as _dt
import json
import os
from transformers.utils import chat_template_utils
from transformers.utils.chat_template_utils import _compile_jinja_template

# 2026-03-05 12:00 UTC: a one-digit day shows the zero padding of "%d".
NOW_UNIX = 1772712000


class _FrozenDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return _dt.datetime.fromtimestamp(NOW_UNIX, _dt.timezone.utc).replace(tzinfo=tz)


chat_template_utils.datetime = _FrozenDatetime

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
                text = tmpl.render(messages=messages, add_generation_prompt=gen, bos_token=bos, eos_token=eos)
                cases.append({"messages": messages, "add_generation_prompt": gen, "text": text})
            except Exception as e:  # raise_exception in the template
                cases.append({"messages": messages, "add_generation_prompt": gen, "error": str(e)})
        out[name] = {"bos_token": bos, "eos_token": eos, "now_unix": NOW_UNIX, "cases": cases}
    with open(os.path.join(DIR, "expected.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
