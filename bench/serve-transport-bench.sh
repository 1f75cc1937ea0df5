#!/usr/bin/env bash
# keel serve on io_uring (file bodies spliced through the ring) against keel serve on epoll
# (sendfile), in the same run: 1 MiB and 16 MiB files, 1 and 64 connections, ROUNDS rounds
# alternating the transports case by case, DURATION seconds each. Both servers run at once on
# SERVER_CPU (one loop each), wrk on CLIENT_CPU. Prints one CSV line per run and the median
# req/s per case with the ratio io_uring / epoll.
#
#   bench/serve-transport-bench.sh        # ROUNDS=3 DURATION=5
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
EPOLL_PORT=${EPOLL_PORT:-18180}
URING_PORT=${URING_PORT:-18181}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
[ -x bin/keel ] || make bin/keel >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www"
head -c $((1024 * 1024)) /dev/urandom > "$work/www/1m.bin"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/www/16m.bin"
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2
  exit 1
}
taskset -c "$SERVER_CPU" bin/keel serve --root "$work/www" --port "$EPOLL_PORT" --loops 1 --cpus "$SERVER_CPU" \
  --transport epoll > "$work/epoll.out" 2>&1 &
pids+=($!)
taskset -c "$SERVER_CPU" bin/keel serve --root "$work/www" --port "$URING_PORT" --loops 1 --cpus "$SERVER_CPU" \
  --transport io_uring > "$work/uring.out" 2>&1 &
pids+=($!)
wait_port "$EPOLL_PORT"
wait_port "$URING_PORT"
head -1 "$work/epoll.out" "$work/uring.out" >&2
# Warm-up: each server, each case, briefly.
for port in "$EPOLL_PORT" "$URING_PORT"; do
  for f in 1m 16m; do
    taskset -c "$CLIENT_CPU" wrk -t1 -c8 -d2s "http://127.0.0.1:$port/$f.bin" > /dev/null
  done
done
echo "round,size,conns,transport,req_per_s,mb_per_s"
results="$work/results.csv"
for round in $(seq 1 "$ROUNDS"); do
  for f in 1m 16m; do
    for c in 1 64; do
      order="epoll io_uring"
      [ $((round % 2)) = 0 ] && order="io_uring epoll"
      for t in $order; do
        port=$EPOLL_PORT
        [ "$t" = io_uring ] && port=$URING_PORT
        out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$c" -d"${DURATION}s" "http://127.0.0.1:$port/$f.bin")
        rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
        mbs=$(awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else sub("MB","",v); print v}' <<< "$out")
        echo "$round,$f,$c,$t,$rps,$mbs" | tee -a "$results"
      done
    done
  done
done
echo
echo "median req/s over $ROUNDS rounds:"
for f in 1m 16m; do
  for c in 1 64; do
    e=$(awk -F, -v f="$f" -v c="$c" '$2==f && $3==c && $4=="epoll" {print $5}' "$results" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    u=$(awk -F, -v f="$f" -v c="$c" '$2==f && $3==c && $4=="io_uring" {print $5}' "$results" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v f="$f" -v c="$c" -v e="$e" -v u="$u" 'BEGIN {printf "%s x%s: epoll %.1f, io_uring %.1f, ratio %.2f\n", f, c, e, u, u / e}'
  done
done
