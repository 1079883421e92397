#!/usr/bin/env bash
# The one script run on the lent GPU machine (issue 7): correctness of the CUDA build on the tiny
# fixture models, then for each 3-4B shape our rollout + RL step against the PyTorch baseline on
# the same card, each run sampled by the same nvidia-smi poller; prints the tables LAST.
#
#   scripts/gpu/device-check.sh          GPU: dist/sharpen-cuda.xz (from scripts/gpu/build-cuda.sh), bf16,
#                                    256 x (128 + 256) tokens, Qwen2.5-3B, Llama-3.2-3B, Qwen3-4B
#   scripts/gpu/device-check.sh --cpu    CPU: target/release/sharpen, f32, the tiny shape, batch 8 (one
#                                    RLOO group), prompt 16, new 16, micro-batch 2
#                                    (automatic when there is no nvidia-smi or no dist binary)
#
# Environment: PYTHON (default python3; the baseline needs torch + transformers, skipped if
# missing), SHARPEN_BIN (binary to use instead), SHAPES (space-separated names in configs/shapes),
# BUDGET_S (seconds for all runs, default 480 on GPU), OURS_ARGS (extra flags for `sharpen bench rl`,
# default "--profile", plus "--also-micro-batch 32" on the GPU), OUT (if set, results are copied there).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
PYTHON=${PYTHON:-python3}
export PYTHONUNBUFFERED=1

note() { printf '[device-check] %s\n' "$*" >&2; }

mode=gpu
for arg in "$@"; do
  case $arg in
    --cpu) mode=cpu ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) note "unknown argument $arg"; exit 2 ;;
  esac
done
if [[ $mode == gpu ]] && ! command -v nvidia-smi >/dev/null; then
  note "no nvidia-smi: CPU mode"
  mode=cpu
fi
if [[ $mode == gpu && -z ${SHARPEN_BIN:-} && ! -f dist/sharpen-cuda.xz ]]; then
  note "no dist/sharpen-cuda.xz (run scripts/gpu/build-cuda.sh): CPU mode"
  mode=cpu
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")
RESULTS=$WORK/results.jsonl
: >"$RESULTS"
note "work folder $WORK"

if [[ $mode == gpu ]]; then
  DEVICE=cuda DTYPE=bf16 BATCH=256 PROMPT=128 NEW=256 MB=8
  read -r -a SHAPE_LIST <<<"${SHAPES:-qwen2.5-3b llama-3.2-3b qwen3-4b}"
  T_DEVICE=60 T_OURS=150 T_TORCH=120
  BUDGET_S=${BUDGET_S:-480}
  if [[ -n ${SHARPEN_BIN:-} ]]; then
    BIN=$SHARPEN_BIN
  else
    BIN=$WORK/sharpen
    if command -v xz >/dev/null; then
      xz -dc dist/sharpen-cuda.xz >"$BIN"
    else
      "$PYTHON" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
        dist/sharpen-cuda.xz "$BIN"
    fi || { note "could not unpack dist/sharpen-cuda.xz"; exit 1; }
    chmod +x "$BIN"
  fi
  # The CUDA libraries the binary links: the driver from /usr/local/nvidia, the rest from
  # PyTorch's environment (pip's nvidia/cu13/lib) or any toolkit under /opt or /usr/local.
  roots=(/usr/local/nvidia/lib64 /usr/local/nvidia/lib /opt /usr/local/cuda/lib64)
  while IFS= read -r d; do roots+=("$d"); done < <("$PYTHON" -c \
    'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null || true)
  libdirs=()
  for lib in libcuda.so.1 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudart.so.13 libnvrtc.so.13; do
    # Never a link-time stub or a forward-compatibility driver in place of the real one.
    found=$(find "${roots[@]}" -name "$lib" \( -type f -o -type l \) -not -path '*/stubs/*' \
      -not -path '*/compat/*' -print -quit 2>/dev/null || true)
    if [[ -z $found ]] && ldconfig -p 2>/dev/null | grep -q "$lib "; then
      continue # the system's loader finds it without help
    fi
    if [[ -n $found ]]; then
      libdirs+=("$(dirname "$found")")
    else
      note "warning: $lib not found under ${roots[*]}"
    fi
  done
  LD_LIBRARY_PATH=$(printf '%s\n' "${libdirs[@]}" /usr/local/nvidia/lib64 | awk '!seen[$0]++' | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LD_LIBRARY_PATH
  note "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  missing=$(ldd "$BIN" 2>&1 | grep 'not found' || true)
  [[ -z $missing ]] || note "warning: unresolved libraries: $missing"
  nvidia-smi -L
  CARD=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)
else
  DEVICE=cpu DTYPE=f32 BATCH=8 PROMPT=16 NEW=16 MB=2
  read -r -a SHAPE_LIST <<<"${SHAPES:-tiny}"
  T_DEVICE=300 T_OURS=300 T_TORCH=300
  BUDGET_S=${BUDGET_S:-1500}
  BIN=${SHARPEN_BIN:-$REPO/target/release/sharpen}
  [[ -x $BIN ]] || { note "$BIN missing: run 'cargo build --release' first"; exit 1; }
  CARD="CPU ($(nproc) cores; no GPU)"
fi
note "mode $mode: $DEVICE $DTYPE, batch $BATCH, prompt $PROMPT, new $NEW, micro-batch $MB, shapes ${SHAPE_LIST[*]}"

have_torch=1
if ! "$PYTHON" -c 'import torch, transformers' 2>/dev/null; then
  have_torch=0
  note "$PYTHON has no torch/transformers: the PyTorch baseline is skipped"
fi

deadline=$(($(date +%s) + BUDGET_S))

# run TAG LIMIT_S CMD...: runs CMD under timeout (cut to the remaining budget) with the
# nvidia-smi poller in GPU mode, echoes its JSON lines, appends them tagged to $RESULTS.
run() {
  local tag=$1 limit=$2
  shift 2
  local left=$((deadline - $(date +%s)))
  if ((left < 15)); then
    note "$tag: skipped, the time budget is spent"
    printf '{"run":"%s","rc":124,"error":"not run: time budget spent"}\n' "$tag" >>"$RESULTS"
    return
  fi
  ((limit > left)) && limit=$left
  local mem="" idle=0 poller=""
  if [[ $mode == gpu ]]; then
    idle=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -n1)
    mem=$WORK/$tag.mem
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$mem" 2>/dev/null &
    poller=$!
  fi
  note "$tag: $* (limit ${limit}s)"
  local t0 rc
  t0=$(date +%s%N)
  timeout --kill-after=10 "$limit" "$@" >"$WORK/$tag.out" 2>"$WORK/$tag.err"
  rc=$?
  local ms=$((($(date +%s%N) - t0) / 1000000))
  local secs
  secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  if [[ -n $poller ]]; then
    kill "$poller" 2>/dev/null
    wait "$poller" 2>/dev/null
  fi
  ((rc == 0)) || { note "$tag: exit status $rc; last lines of stderr:"; tail -n 5 "$WORK/$tag.err" >&2; }
  "$PYTHON" scripts/gpu/device_table.py collect "$tag" "$rc" "$secs" "$WORK/$tag.out" "$WORK/$tag.err" \
    ${mem:+"$mem" "$idle"} | tee -a "$RESULTS"
}

run device "$T_DEVICE" "$BIN" bench device --fixtures tests/fixtures --device "$DEVICE" --json

read -r -a ours_extra <<<"${OURS_ARGS---profile}"
# On the GPU, also time our step with bigger micro-batches (checkpointing leaves the memory).
[[ $mode == gpu && -z ${OURS_ARGS+x} ]] && ours_extra+=(--also-micro-batch 32)
common=(--device "$DEVICE" --dtype "$DTYPE" --batch "$BATCH" --prompt-len "$PROMPT" --new-tokens "$NEW" --micro-batch "$MB")
for shape in "${SHAPE_LIST[@]}"; do
  cfg=configs/shapes/$shape.json
  [[ -f $cfg ]] || { note "$cfg missing"; continue; }
  run "ours-$shape" "$T_OURS" "$BIN" bench rl --shape "$cfg" "${common[@]}" --json "${ours_extra[@]}"
  if ((have_torch)); then
    run "torch-$shape" "$T_TORCH" "$PYTHON" scripts/bench/bench_gpu_baseline.py --shape "$cfg" "${common[@]}" --seed 0
  else
    printf '{"run":"torch-%s","rc":0,"skipped":true,"error":"no torch in %s"}\n' "$shape" "$PYTHON" >>"$RESULTS"
  fi
done

"$PYTHON" scripts/gpu/device_table.py render "$RESULTS" --card "$CARD" >"$WORK/table.md"
if [[ -n ${OUT:-} ]]; then
  mkdir -p "$OUT"
  cp "$RESULTS" "$WORK/table.md" "$OUT/"
  tar -C "$WORK" -czf "$OUT/logs.tar.gz" --exclude=sharpen . 2>/dev/null || true
fi
note "results in $WORK${OUT:+ and $OUT}"
echo
cat "$WORK/table.md"
