#!/usr/bin/env bash
# keel serve's first seconds, with and without the JDK AOT cache of the distribution
# (make bench-startup). For each round and each mode (KEEL_AOT=0, then 1, interleaved): start the
# image's bin/keel serve pinned to SERVER_CPU on a 1 KiB file, time it to its ready line, run
# wrk -t1 -c64 for FIRST seconds at once (the first seconds' rate), then WARM seconds of warm-up
# and MEASURE seconds again (the warm rate); then stop it. Reports the medians: time to ready,
# first-seconds req/s, warm req/s, and first/warm — into BENCH-SERVE.md between
# "<!-- startup -->" and "<!-- /startup -->" (REPORT=... to write elsewhere), and as CSV in
# bench/results/startup-<stamp>.csv. Needs target/dist (make dist; NO_BUILD=1 skips building
# it). Installs wrk when missing. Knobs: ROUNDS (5), FIRST (3), WARM (5), MEASURE (3),
# SERVER_CPU (0), LOAD_CPU (1), PORT (18090), QUIET_MAX_PCT (10) and QUIET_WAIT (60): before
# each round, wait up to QUIET_WAIT s for the machine to be at most QUIET_MAX_PCT busy.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
. bench/bench-lib.sh

ROUNDS=${ROUNDS:-5}
FIRST=${FIRST:-3}
WARM=${WARM:-5}
MEASURE=${MEASURE:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-18090}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-60}
REPORT=${REPORT:-BENCH-SERVE.md}

bench_need wrk:wrk taskset:util-linux || exit 1
[ "${NO_BUILD:-0}" = 1 ] || make --no-print-directory dist >/dev/null
image=$(ls -d target/dist/keel-*/ 2>/dev/null | head -n 1)
[ -n "$image" ] && [ -x "$image/bin/keel" ] || { echo "startup-bench: no target/dist image: run make dist" >&2; exit 1; }
[ -f "$image/lib/keel.aot" ] || { echo "startup-bench: $image has no lib/keel.aot (built with KEEL_AOT=0?)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/keel-startup.XXXXXX")
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
head -c 1024 /dev/urandom > "$work/1k.bin"
mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
csv="bench/results/startup-$stamp.csv"
echo "round,aot,ready_ms,first_rps,warm_rps,busy_pct_before" > "$csv"

# wrk's requests per second for SECONDS at the file.
rate() {
  taskset -c "$LOAD_CPU" wrk -t1 -c64 -d"${1}s" --timeout 30s "http://127.0.0.1:$PORT/1k.bin" \
    | awk '/^Requests\/sec:/ {print $2}'
}

for round in $(seq 1 "$ROUNDS"); do
  for aot in 0 1; do
    bench_wait_quiet "$QUIET_MAX_PCT" "$QUIET_WAIT" > /dev/null
    busy=$(bench_busy_pct)
    log="$work/serve.log"
    started=$(date +%s%N)
    KEEL_AOT=$aot taskset -c "$SERVER_CPU" "$image/bin/keel" serve --root "$work" --port "$PORT" \
      --cpus "$SERVER_CPU" > "$log" 2>&1 &
    server=$!
    for _ in $(seq 1 6000); do # at most 60 s
      grep -q '^keel serve: http' "$log" && break
      kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "startup-bench: keel serve exited" >&2; exit 1; }
      sleep 0.01
    done
    grep -q '^keel serve: http' "$log" || { cat "$log" >&2; echo "startup-bench: no ready line in 60 s" >&2; exit 1; }
    ready=$(( ($(date +%s%N) - started) / 1000000 ))
    first=$(rate "$FIRST")
    rate "$WARM" > /dev/null
    warm=$(rate "$MEASURE")
    kill -TERM "$server"; wait "$server" || true; server=
    echo "$round,$aot,$ready,$first,$warm,$busy" | tee -a "$csv"
  done
done

table=$(awk -F, 'NR > 1 {
    k = $2; n[k]++; r[k, n[k]] = $3; f[k, n[k]] = $4; w[k, n[k]] = $5; q[k, n[k]] = $4 / $5 }
  function median(a, k, m,   i, j, t, v) {
    for (i = 1; i <= m; i++) v[i] = a[k, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
  END {
    print "| AOT cache | rounds | ready line (ms) | first " first " s (req/s) | warm (req/s) | first / warm |"
    print "|---|---:|---:|---:|---:|---:|"
    for (k = 0; k <= 1; k++)
      printf "| %s | %d | %.0f | %.0f | %.0f | %.2f |\n", (k ? "lib/keel.aot" : "none (KEEL_AOT=0)"), n[k],
        median(r, k, n[k]), median(f, k, n[k]), median(w, k, n[k]), median(q, k, n[k])
  }' first="$FIRST" "$csv")
block=$(printf '%s\n\n%s\n\n%s\n' \
  "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`make bench-startup\` (bench/startup-bench.sh): the distribution's \`bin/keel serve\` on CPU $SERVER_CPU, \`wrk -t1 -c64\` on CPU $LOAD_CPU, 1 KiB file, $ROUNDS interleaved rounds, medians; the first $FIRST s start as soon as the ready line is printed, the warm rate is $MEASURE s after $WARM s more." \
  "$table" \
  "Raw rounds: \`$csv\` (busy_pct_before: the machine's other load just before each round).")
echo "$block"
if bench_replace_block "$REPORT" startup "$block"; then
  echo "startup-bench: wrote $REPORT"
fi
