#!/usr/bin/env bash
# Mass-close recovery: how long after N idle connections close at once (their peers first, as
# when a load generator stops) keel echo serves a new connection, per transport. Starts
# `keel echo --max-connections` (one loop on SERVER_CPU) for each transport, runs
# bench/close-recovery.py for each N, prints its JSON lines (probe_served_s is the answer) and
# stops the server. A regression check by eye, not a pass/fail: the time depends on the machine.
# io_uring took 14.6 s after 19,000 when every close cancelled its requests by file
# (IORING_ASYNC_CANCEL_FD, a walk over every armed request of the ring); epoll ~0.8 s.
#
#   bench/close-recovery.sh                      # CONNS="10000 19000", TRANSPORTS="io_uring epoll"
#   CONNS=19000 TRANSPORTS=io_uring bench/close-recovery.sh
#
# Needs RLIMIT_NOFILE of at least N + a few hundred for both processes (the soft limit is
# raised to the hard one here) and bin/keel (make build).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
CONNS=${CONNS:-"10000 19000"}
TRANSPORTS=${TRANSPORTS:-"io_uring epoll"}
SERVER_CPU=${SERVER_CPU:-0}
PORT=${PORT:-$((30000 + RANDOM % 10000))}
[ -x bin/keel ] || { echo "close-recovery: bin/keel missing; run make build" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
max=0
for n in $CONNS; do [ "$n" -gt "$max" ] && max=$n; done
source=1
for t in $TRANSPORTS; do
  log=$(mktemp)
  bin/keel echo --transport "$t" --max-connections $((max + 500)) --port "$PORT" --cpus "$SERVER_CPU" >"$log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
  for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done
  grep -q listening "$log" || { cat "$log" >&2; exit 1; }
  for n in $CONNS; do
    # Fresh source addresses each run: the closed connections' ports wait in TIME_WAIT.
    echo "{\"transport\":\"$t\",\"result\":$(python3 bench/close-recovery.py --port "$PORT" --conns "$n" --source-base "$source")}"
    source=$((source + n / 4096 + 11))
    sleep 2
  done
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -f "$log"
  trap - EXIT
  PORT=$((PORT + 1))
done
