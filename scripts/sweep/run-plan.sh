#!/usr/bin/env bash
# Run a plan of training runs one after another, resumably, committing each finished run's log.
#
#   scripts/sweep/run-plan.sh PLAN
#
# PLAN is a text file. Its `out=DIR` line names the folder the runs go to, `config=FILE` lines the
# experiment files every run reads, `set=KEY=VALUE` lines the settings every run shares (one
# of them must be steps=N), and every other non-comment line is a run:
#   NAME REGIME_FILE SEED [KEY=VALUE ...]
# A run whose log already holds step N−1 is skipped; one with a checkpoint is resumed
# (`sharpen train --resume`); one without is started afresh (`--overwrite`, since a log without a
# checkpoint holds no step worth keeping). Each finished run's log.jsonl is committed, and its
# checkpoints (`last/`, `best/`: 3 GiB for SmolLM2 with AdamW's state) are then deleted, since
# only an unfinished run needs one; KEEP_CHECKPOINTS=1 keeps them. Stop the script at any point
# (the trainer checkpoints every `checkpoint_every` steps) and run it again.
set -euo pipefail
cd "$(dirname "$0")/../.."
plan=${1:?usage: scripts/sweep/run-plan.sh PLAN}
SHARPEN=${SHARPEN:-target/release/sharpen}
[ -x "$SHARPEN" ] || cargo build --release --bin sharpen

out="" steps="" configs=() common=()
while read -r line; do
  case "$line" in
    ''|'#'*) ;;
    out=*) out=${line#out=} ;;
    config=*) configs+=(--config "${line#config=}") ;;
    set=*) kv=${line#set=}; common+=(--set "$kv"); [[ $kv == steps=* ]] && steps=${kv#steps=} ;;
  esac
done <"$plan"
[ -n "$out" ] && [ -n "$steps" ] || { echo "error: $plan needs out=DIR and set=steps=N" >&2; exit 2; }

commit() { # a concurrent git command may hold the index for a moment: retry
  for _ in 1 2 3 4 5; do
    git add -- "$1" && git commit -q -m "$2" -- "$1" && return 0
    sleep 3
  done
  echo "warning: could not commit $1" >&2
}

grep -vE '^(#|out=|config=|set=|$)' "$plan" | while read -r name regime seed rest; do
  dir="$out/$name"
  if [ -f "$dir/log.jsonl" ] && grep -q "\"step\":$((steps - 1))," "$dir/log.jsonl"; then
    echo "== $name: finished"; continue
  fi
  mode=(--overwrite); [ -d "$dir/last" ] && mode=(--resume)
  sets=("${common[@]}" --set "seed=$seed" --set "out_dir=\"$dir\"")
  for kv in $rest; do sets+=(--set "$kv"); done
  echo "== $name: ${mode[0]#--} ($(date -u +%H:%M))"
  "$SHARPEN" train "${configs[@]}" --config "$regime" "${sets[@]}" "${mode[@]}" </dev/null
  commit "$dir/log.jsonl" "runs: $name ($steps steps)"
  [ "${KEEP_CHECKPOINTS:-0}" = 1 ] || rm -rf -- "$dir/last" "$dir/best"
done
