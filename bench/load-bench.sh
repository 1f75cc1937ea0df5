#!/usr/bin/env bash
# keel load beside native/echo/echo_load (issue 14): both drive the same C epoll echo server
# (native/echo/c_epoll_echo) pinned to SERVER_CPU, each pinned to LOAD_CPU, in interleaved
# rounds, at 64 connections x depth 16 x 64 B (throughput) and 1 x 1 x 64 B (ping-pong
# latency). Prints one table of medians: req/s and p50/p99 of each client, and keel's ratios.
# The issue's targets: keel load at least 0.95x echo_load's req/s at 64x16x64, and the same
# ping-pong p50/p99 within 5%.
#
#   bench/load-bench.sh              # ROUNDS=3, DURATION=5 s per run: about 2 minutes
#   QUICK=1 bench/load-bench.sh      # one round of 2 s runs
#
# Settings (environment): ROUNDS, DURATION (seconds), SERVER_CPU, LOAD_CPU, PORT, TRANSPORT
# (keel load's: epoll or io_uring), NO_BUILD=1. Results as JSON lines under bench/results/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-2}; fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-$((20000 + RANDOM % 10000))}
TRANSPORT=${TRANSPORT:-epoll}
# name conns depth size
SCENARIOS=("64x16x64 64 16 64" "pingpong 1 1 64")

say() { echo "load-bench: $*" >&2; }
die() { say "$*"; exit 1; }

java_home=$(scripts/find-jdk.sh) || exit 1
if [ "${NO_BUILD:-0}" != 1 ]; then
  say "building (native, bin/keel)"
  make -s -C native JAVA_HOME="$java_home" >/dev/null
  make -s build >/dev/null
fi
load=native/build/echo_load
server=native/build/c_epoll_echo
[ -x "$load" ] && [ -x "$server" ] && [ -x bin/keel ] || die "not built: native/build or bin/keel missing"
command -v python3 >/dev/null || die "needs python3 for the table"

mkdir -p bench/results
out=bench/results/load-$(date +%Y%m%d-%H%M%S).jsonl
taskset -c "$SERVER_CPU" "$server" "$PORT" >/dev/null 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

for round in $(seq "$ROUNDS"); do
  for s in "${SCENARIOS[@]}"; do
    read -r name conns depth size <<<"$s"
    say "round $round: $name with echo_load"
    line=$(taskset -c "$LOAD_CPU" "$load" --port "$PORT" --conns "$conns" --depth "$depth" --size "$size" \
      --duration "$DURATION")
    echo "{\"client\":\"echo_load\",\"scenario\":\"$name\",\"round\":$round,\"result\":$line}" >>"$out"
    say "round $round: $name with keel load"
    line=$(bin/keel load --port "$PORT" --connections "$conns" --depth "$depth" --size "$size" \
      --duration "${DURATION}s" --cpus "$LOAD_CPU" --transport "$TRANSPORT" --json | tr -d '\n')
    echo "{\"client\":\"keel-load\",\"scenario\":\"$name\",\"round\":$round,\"result\":$line}" >>"$out"
  done
done

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def pick(client, scenario):
    rs = [r["result"] for r in rows if r["client"] == client and r["scenario"] == scenario]
    if client == "echo_load":
        return [(r["rps"], r["p50_us"], r["p99_us"]) for r in rs]
    return [(r["requests_per_second"], r["latency_us"]["p50"], r["latency_us"]["p99"]) for r in rs]
print("| scenario | client | req/s | p50 us | p99 us |")
print("|---|---|---:|---:|---:|")
for scenario in ["64x16x64", "pingpong"]:
    med = {}
    for client in ["echo_load", "keel-load"]:
        vals = pick(client, scenario)
        med[client] = tuple(statistics.median(v[i] for v in vals) for i in range(3))
        print(f"| {scenario} | {client} | {med[client][0]:.0f} | {med[client][1]:.1f} | {med[client][2]:.1f} |")
    e, k = med["echo_load"], med["keel-load"]
    print(f"| {scenario} | keel/echo_load | {k[0]/e[0]:.3f}x | {k[1]/e[1]:.3f}x | {k[2]/e[2]:.3f}x |")
PY
say "results: $out"
