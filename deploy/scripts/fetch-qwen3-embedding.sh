#!/usr/bin/env bash
# Downloads a Hugging Face ONNX export of Qwen3-Embedding-0.6B and its tokenizer into a model directory laid out the
# way the Qwen embedder looks for it (MODEL_DIR/tokenizer.json, MODEL_DIR/onnx/model*.onnx).
#
#   deploy/scripts/fetch-qwen3-embedding.sh [--precision fp32|int8] [--repo OWNER/NAME] [--revision REV] [MODEL_DIR]
#
# Default repo: Qdrant/Qwen3-Embedding-0.6B-onnx, whose model card lists onnx/model.onnx + onnx/model.onnx_data (fp32,
# 2.38 GB) and onnx/model_quantized.onnx (int8 MatMulNBits, 1.12 GB, needs ONNX Runtime >= 1.23; the service uses 1.31).
# Other exports with the same file names work too (e.g. --repo onnx-community/Qwen3-Embedding-0.6B-ONNX).
# tokenizer.json is taken from the export when it has one, else from the original Qwen/Qwen3-Embedding-0.6B repository.
# Set HF_TOKEN for gated or rate-limited downloads. Re-running resumes partial files.
set -euo pipefail

precision=fp32
repo=Qdrant/Qwen3-Embedding-0.6B-onnx
revision=main
model_dir=models/qwen3-embedding-0.6b
while [[ $# -gt 0 ]]; do
  case "$1" in
    --precision) precision="$2"; shift 2 ;;
    --repo) repo="$2"; shift 2 ;;
    --revision) revision="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) model_dir="$1"; shift ;;
  esac
done

case "$precision" in
  fp32) files=(onnx/model.onnx onnx/model.onnx_data) ;;
  int8) files=(onnx/model_quantized.onnx) ;;
  *) echo "--precision must be fp32 or int8" >&2; exit 2 ;;
esac

auth=()
[[ -n "${HF_TOKEN:-}" ]] && auth=(-H "Authorization: Bearer ${HF_TOKEN}")

# fetch REPO PATH DEST: resumable download of one file from the repository at $revision; fails on HTTP errors.
fetch() {
  local url="https://huggingface.co/$1/resolve/${revision}/$2"
  echo "fetching ${url}"
  mkdir -p "$(dirname "$3")"
  curl --fail --location --retry 5 --retry-delay 5 --continue-at - "${auth[@]}" --output "$3.part" "$url" || return 1
  mv "$3.part" "$3"
}

mkdir -p "$model_dir"
for file in "${files[@]}"; do
  fetch "$repo" "$file" "$model_dir/$file"
done

if [[ ! -s "$model_dir/tokenizer.json" ]]; then
  fetch "$repo" tokenizer.json "$model_dir/tokenizer.json" \
    || fetch "$repo" onnx/tokenizer.json "$model_dir/tokenizer.json" \
    || fetch Qwen/Qwen3-Embedding-0.6B tokenizer.json "$model_dir/tokenizer.json"
fi

echo "Qwen3-Embedding-0.6B ($precision) is in $model_dir:"
ls -l "$model_dir" "$model_dir/onnx"
echo "Point the service at it (model directory = $model_dir, precision = $precision)."
