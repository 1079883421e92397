#!/usr/bin/env bash
# Power sampling against temperature 1/α and the base model on SmolLM2-135M-Instruct, synthetic
# task (difficulty 1, answer-prefix prompt, 16 new tokens: configs/smollm2/cpu.toml's settings).
# Run from the repository root with a release build:
#   bash runs/power-smollm2/run.sh        # base, temperatures 1/2 and 1/4, power α = 2, 4 at K = 8
#   bash runs/power-smollm2/run.sh k16    # the power runs again with K = 16 moves (a check of K = 8)
set -euo pipefail
out=runs/power-smollm2
common=(--model models/SmolLM2-135M-Instruct --data synthetic --difficulty 1 --prompt-style answer-prefix
        --max-new-tokens 16 --problems 32 --n 8 --k 1,2,4,8 --batch-rows 128 --seed 0 --device cpu)
run() {
  local name=$1; shift
  { echo "== $name: sharpen eval ${common[*]} $*"; echo "load before: $(uptime)"; } | tee "$out/$name.log"
  local t0=$SECONDS
  nice -n 2 target/release/sharpen eval "${common[@]}" "$@" --out "$out/$name.json" 2>&1 | tee -a "$out/$name.log"
  { echo "wall: $((SECONDS - t0)) s"; echo "load after: $(uptime)"; } | tee -a "$out/$name.log"
}
if [ "${1:-}" = k16 ]; then
  run power-2-k16 --power 2 --mcmc-steps 16
  run power-4-k16 --power 4 --mcmc-steps 16
  exit
fi
run base
run temp-0.5 --temperature 0.5
run temp-0.25 --temperature 0.25
run power-2 --power 2 --mcmc-steps 8
run power-4 --power 4 --mcmc-steps 8
