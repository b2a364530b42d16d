#!/usr/bin/env bash
# The full benchmark run behind benchmarks/RESULTS.md, in priority order, one log per script
# under benchmarks/out/logs/. Takes ~25 minutes on the 2-core machine when it is otherwise idle.
#   nohup benchmarks/run_all.sh > benchmarks/out/run_all.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p benchmarks/out/logs
step() {
  local name=$1; shift
  echo "$(date -u +%T) start $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$@" > "benchmarks/out/logs/$name.log" 2>&1
  echo "$(date -u +%T) done  $name rc=$?"
}
step latency        $PY benchmarks/latency.py --encoder onnx --questions 60 --rounds 3
step load           $PY benchmarks/load.py --encoder onnx --clients 32 --requests 8
step serve-onnx     $PY benchmarks/serve_latency.py --encoder onnx --rounds 3
step serve-torch    $PY benchmarks/serve_latency.py --encoder torch --rounds 3
step ask-cli        $PY benchmarks/ask_cli.py --calls 10
step peer           $PY benchmarks/haystack_peer.py --questions 150
step scale-100k     $PY benchmarks/scale.py --sizes 100000 --backends faiss faiss-hnsw
step ingest         $PY benchmarks/ingest.py --memory 10000
step scale-1m       $PY benchmarks/scale.py --sizes 1000000 --backends faiss
