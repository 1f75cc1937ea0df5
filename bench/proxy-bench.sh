#!/usr/bin/env bash
# keel proxy (epoll) in front of the C epoll echo server, beside a direct connection to it
# (issue 7): throughput and ping-pong latency, in one run.
#
#   bench/proxy-bench.sh              # full run (~4 min): a block of BENCH-SERVE.md, bench/results/proxy-<stamp>.csv
#   QUICK=1 bench/proxy-bench.sh      # one short round (~1 min); report under bench/results/ only
#   bench/proxy-bench.sh --report bench/results/proxy-<stamp>.csv   # report again
#
# direct:  echo_load (CPU 1) -> c_epoll_echo (CPU 0)
# proxy:   echo_load (CPU 1) -> keel proxy (CPU 0) -> c_epoll_echo (CPU 0)
# The proxy shares the server's CPU (as in serve-bench's proxy row), so what it costs shows in
# both latency and throughput. Both servers run for the whole benchmark; rounds are
# interleaved (each scenario direct, then through the proxy). Scenarios as in echo-bench:
# ping-pong (1 connection, 1 in flight, 64 B), 64x16 (64 connections x 16 in flight x 64 B),
# 16k (16 connections x 4 in flight x 16 KiB). echo_load (native/echo/echo_load.c) checks every
# byte that comes back and reports req/s, MB/s each way and latency percentiles.
#
# CPU per request: the proxy's own (echo_load --server-pid) and the C server's (from /proc
# around the timed run, which is why each timed run follows a separate warm-up run and has no
# warm-up of its own). Noise: time of CPU 0 busy with neither (minus its share of our own
# traffic's kernel work, which echo_load cannot separate) or of CPU 1 busy with other than
# echo_load, as a share of the run; a run above NOISE_MAX_PCT is repeated up to RETRIES times.
#
# Settings (environment): ROUNDS, WARMUP, DURATION, PRIME, SERVER_CPU, LOAD_CPU, PORT_BASE,
# QUIET_MAX_PCT and QUIET_WAIT (before a timed run, wait up to QUIET_WAIT s for the machine to
# be less busy than that), NOISE_MAX_PCT, RETRIES, RETRY_BUDGET (seconds spent waiting and
# repeating, at most), NO_BUILD=1,
# REPORT (Markdown output; default BENCH-SERVE.md, where the block between
# "<!-- proxy-echo -->" and "<!-- /proxy-echo -->" is replaced).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
. bench/bench-lib.sh

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} WARMUP=${WARMUP:-0.5} DURATION=${DURATION:-2} PRIME=${PRIME:-2} RETRIES=${RETRIES:-0}
  RETRY_BUDGET=${RETRY_BUDGET:-20}
fi
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-1}
DURATION=${DURATION:-4}
PRIME=${PRIME:-4}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-$((30000 + RANDOM % 10000))}
NOISE_MAX_PCT=${NOISE_MAX_PCT:-15}
RETRIES=${RETRIES:-2}
RETRY_BUDGET=${RETRY_BUDGET:-120}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-10}
# name conns depth size
SCENARIOS=(
  "pingpong 1 1 64"
  "64x16 64 16 64"
  "16k 16 4 16384"
)

say() { echo "proxy-bench: $*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------- report
# report CSV OUT.md: the block (tables from the CSV, settings from the .env beside it) written
# between the markers of OUT.md, before its Analysis section if the markers are not there yet.
report() {
  local csv=$1 out=$2 env=${1%.csv}.env block
  local M_DATE="?" M_ROUNDS=$ROUNDS M_DURATION=$DURATION M_WARMUP=$WARMUP M_NOISE_MAX=$NOISE_MAX_PCT \
    M_QUICK=$QUICK M_SERVER_CPU=$SERVER_CPU M_LOAD_CPU=$LOAD_CPU M_RETRIES=$RETRIES
  # shellcheck disable=SC1090
  [ -f "$env" ] && . "$env"
  block=$(mktemp)
  {
    echo "<!-- proxy-echo -->"
    echo "### keel proxy in front of the C echo server"
    echo
    echo "Measured $M_DATE by \`bench/proxy-bench.sh\`$([ "$M_QUICK" = 1 ] && echo " (QUICK=1: one short round, for validation only)"):"
    echo "echo_load (CPU $M_LOAD_CPU) -> \`keel proxy\` (epoll, one loop, CPU $M_SERVER_CPU) -> \`c_epoll_echo\` (CPU $M_SERVER_CPU), beside"
    echo "echo_load -> \`c_epoll_echo\` directly; $M_ROUNDS interleaved round(s) of ${M_DURATION}s per scenario after ${M_WARMUP}s of"
    echo "warm-up; medians of rounds. Every byte echoed is checked. Runs noisier than ${M_NOISE_MAX}% were repeated (up to"
    echo "$M_RETRIES times, bounded); noise of the runs kept: median $(awk -F, 'NR > 1 { print $13 }' "$csv" | sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "?") }')%,"
    echo "max $(awk -F, 'NR > 1 { print $13 }' "$csv" | sort -n | tail -n 1)%; the medians take only the runs at most ${M_NOISE_MAX}% noisy"
    echo "where both paths of a scenario have one (a scenario marked * had none). Raw numbers: \`$csv\`."
    echo
    echo "| scenario | direct req/s | via proxy req/s | proxy/direct | direct MB/s | via proxy MB/s | p50 µs direct / proxy | p50 ratio | p99 µs direct / proxy | p99 ratio | proxy CPU µs/req | C server CPU µs/req direct / proxy |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    # Medians of the runs no noisier than NOISE_MAX_PCT where a scenario and path has one (as
    # echo-bench does); a scenario marked * had none and is the median of all its runs.
    awk -F, -v m="$M_NOISE_MAX" '
      function median(list,   a, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      NR == 1 { next }
      { k = $3 "," $2; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 }
        q = ($13 + 0 <= m) ? "q" : "a"
        for (t = 0; t < 2; t++) {
          kk = (t == 0 ? "a" : q) k
          if (t == 1 && q == "a") break
          rps[kk] = rps[kk] " " $7; mb[kk] = mb[kk] " " $8; p50[kk] = p50[kk] " " $9; p99[kk] = p99[kk] " " $10
          pcpu[kk] = pcpu[kk] " " $11; ecpu[kk] = ecpu[kk] " " $12
        }
      }
      END {
        for (i = 1; i <= n; i++) {
          quiet = (("q" order[i] ",direct") in rps) && (("q" order[i] ",proxy") in rps)
          d = (quiet ? "q" : "a") order[i] ",direct"; p = (quiet ? "q" : "a") order[i] ",proxy"
          rd = median(rps[d]); rp = median(rps[p])
          printf "| %s%s | %.0f | %.0f | **%.2f** | %.1f | %.1f | %.1f / %.1f | **%.2f** | %.1f / %.1f | **%.2f** | %.2f | %.2f / %.2f |\n",
            order[i], (quiet ? "" : "*"), rd, rp, (rd > 0 ? rp / rd : 0), median(mb[d]), median(mb[p]),
            median(p50[d]), median(p50[p]), (median(p50[d]) > 0 ? median(p50[p]) / median(p50[d]) : 0),
            median(p99[d]), median(p99[p]), (median(p99[d]) > 0 ? median(p99[p]) / median(p99[d]) : 0),
            median(pcpu[p]), median(ecpu[d]), median(ecpu[p])
        }
      }' "$csv"
    echo
    echo "MB/s is one way. Ratios are via proxy / direct: above 1 is slower for latency, below 1 fewer req/s."
    echo "<!-- /proxy-echo -->"
  } > "$block"
  if [ -f "$out" ] && grep -q '^<!-- proxy-echo -->' "$out"; then
    awk -v blk="$block" '
      /^<!-- proxy-echo -->/ { while ((getline l < blk) > 0) print l; skip = 1; next }
      /^<!-- \/proxy-echo -->/ { skip = 0; next }
      !skip' "$out" > "$out.new"
  elif [ -f "$out" ] && grep -q '^## Analysis' "$out"; then
    awk -v blk="$block" '
      /^## Analysis/ && !done { while ((getline l < blk) > 0) print l; print ""; done = 1 }
      { print }' "$out" > "$out.new"
  else
    { [ -f "$out" ] && cat "$out" && echo; cat "$block"; } > "$out.new"
  fi
  mv "$out.new" "$out"
  rm -f "$block"
  say "wrote $out"
}

if [ "${1:-}" = --report ]; then
  [ -f "${2:-}" ] || die "usage: proxy-bench.sh --report bench/results/proxy-STAMP.csv [OUT.md]"
  case "$2" in *-quick.csv) def=${2%.csv}.md ;; *) def=BENCH-SERVE.md ;; esac
  report "$2" "${3:-${REPORT:-$def}}"
  exit 0
fi

# ---------------------------------------------------------------- build
bench_need taskset:util-linux || exit 1
if [ "${NO_BUILD:-0}" != 1 ]; then
  java_home=$(scripts/find-jdk.sh) || exit 1
  make -s -C native JAVA_HOME="$java_home" >/dev/null
  [ -x bin/keel ] || make -s build >/dev/null
fi
load=native/build/echo_load
[ -x "$load" ] && [ -x native/build/c_epoll_echo ] && [ -x bin/keel ] || die "not built: native/build or bin/keel missing"

# ---------------------------------------------------------------- servers
pids=()
tmp=$(mktemp -d)
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_ready() { # file pid
  local i
  for i in $(seq 300); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  die "a server did not start: $(cat "$1" "$1.err" 2>/dev/null | tail -n 3)"
}

echo_port=$((PORT_BASE + 1))
proxy_port=$((PORT_BASE + 2))
taskset -c "$SERVER_CPU" native/build/c_epoll_echo "$echo_port" > "$tmp/echo.out" 2> "$tmp/echo.out.err" &
echo_pid=$!
pids+=("$echo_pid")
wait_ready "$tmp/echo.out" "$echo_pid"
taskset -c "$SERVER_CPU" bin/keel proxy --port "$proxy_port" --to "127.0.0.1:$echo_port" > "$tmp/proxy.out" 2> "$tmp/proxy.out.err" &
proxy_pid=$!
pids+=("$proxy_pid")
wait_ready "$tmp/proxy.out" "$proxy_pid"
say "c_epoll_echo pid $echo_pid on $echo_port, keel proxy pid $proxy_pid on $proxy_port"

# ---------------------------------------------------------------- measuring
field() { sed -n "s/.*\"$1\":\([-0-9.]*\).*/\1/p" <<<"$2"; }
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)$([ "$QUICK" = 1 ] && echo -quick || true)
mkdir -p bench/results
csv=bench/results/proxy-$stamp.csv
cat > "${csv%.csv}.env" <<EOF
M_DATE='$(date -u '+%Y-%m-%d %H:%M UTC')'
M_ROUNDS='$ROUNDS'
M_DURATION='$DURATION'
M_WARMUP='$WARMUP'
M_NOISE_MAX='$NOISE_MAX_PCT'
M_RETRIES='$RETRIES'
M_QUICK='$QUICK'
M_SERVER_CPU='$SERVER_CPU'
M_LOAD_CPU='$LOAD_CPU'
EOF
echo "round,path,scenario,conns,depth,size,rps,mbps,p50_us,p99_us,proxy_cpu_us_per_req,server_cpu_us_per_req,noise_pct" > "$csv"

say "priming the proxy's JIT (${PRIME}s)"
half=$(awk -v p="$PRIME" 'BEGIN { print p / 2 }')
taskset -c "$LOAD_CPU" "$load" --port "$proxy_port" --conns 64 --depth 16 --size 64 --warmup 0 --duration "$half" >/dev/null
taskset -c "$LOAD_CPU" "$load" --port "$proxy_port" --conns 16 --depth 4 --size 16384 --warmup 0 --duration "$half" >/dev/null

started=$SECONDS
retry_spent=0
for round in $(seq "$ROUNDS"); do
  for s in "${SCENARIOS[@]}"; do
    read -r name conns depth size <<<"$s"
    for path in direct proxy; do
      if [ "$path" = direct ]; then port=$echo_port; pid=$echo_pid; else port=$proxy_port; pid=$proxy_pid; fi
      for attempt in $(seq 0 "$RETRIES"); do
        left=$((RETRY_BUDGET - retry_spent))
        if [ "$left" -gt 0 ]; then
          w=$(bench_wait_quiet "$QUIET_MAX_PCT" $((left < QUIET_WAIT ? left : QUIET_WAIT)))
          retry_spent=$((retry_spent + w))
          [ "$w" = 0 ] || say "waited ${w}s for other work to calm down"
        fi
        taskset -c "$LOAD_CPU" "$load" --port "$port" --conns "$conns" --depth "$depth" --size "$size" \
          --warmup 0 --duration "$WARMUP" >/dev/null
        e1=$(cpu_ticks "$echo_pid")
        line=$(taskset -c "$LOAD_CPU" "$load" --port "$port" --conns "$conns" --depth "$depth" --size "$size" \
          --warmup 0 --duration "$DURATION" --server-pid "$pid" --server-cpu "$SERVER_CPU" --load-cpu "$LOAD_CPU" \
          2> "$tmp/load.err") || die "echo_load failed ($path $name): $(tail -n 1 "$tmp/load.err") $line"
        e2=$(cpu_ticks "$echo_pid")
        [ "$(field corrupt "$line")" = 0 ] || die "corrupted bytes ($path $name): $line"
        req=$(field requests "$line"); secs=$(field seconds "$line")
        # The C server's CPU per request; through the proxy, echo_load's "other" time on the
        # server's CPU includes the C server, which is ours, not noise.
        echo_s=$(awk -v t=$((e2 - e1)) -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }')
        server_us=$(awk -v s="$echo_s" -v r="$req" 'BEGIN { printf "%.3f", (r > 0 ? s * 1e6 / r : 0) }')
        if [ "$path" = direct ]; then
          proxy_us=0; other=$(field other_cpu_s "$line")
        else
          proxy_us=$(field cpu_us_per_req "$line"); other=$(awk -v o="$(field other_cpu_s "$line")" -v e="$echo_s" 'BEGIN { print o - e }')
        fi
        noise=$(awk -v o="$other" -v l="$(field load_other_cpu_s "$line")" -v s="$secs" \
          'BEGIN { if (l > o) o = l; if (o < 0) o = 0; printf "%.1f", (s > 0 ? 100 * o / s : 0) }')
        say "round $round $name $path: $(field rps "$line") req/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us, proxy ${proxy_us} us/req, server ${server_us} us/req, noise ${noise}%"
        if awk -v m="$NOISE_MAX_PCT" -v x="$noise" 'BEGIN { exit !(x <= m) }' || [ "$attempt" = "$RETRIES" ]; then break; fi
        if [ "$retry_spent" -ge "$RETRY_BUDGET" ]; then say "  noisy, but the retry budget is spent: kept"; break; fi
        say "  noisy (${noise}%): again"
        retry_spent=$((retry_spent + ${DURATION%.*} + 1))
      done
      echo "$round,$path,$name,$conns,$depth,$size,$(field rps "$line"),$(field mbps "$line"),$(field p50_us "$line"),$(field p99_us "$line"),$proxy_us,$server_us,$noise" >> "$csv"
    done
  done
done
say "measured in $((SECONDS - started)) s"

if [ "$QUICK" = 1 ]; then REPORT=${REPORT:-${csv%.csv}.md}; else REPORT=${REPORT:-BENCH-SERVE.md}; fi
report "$csv" "$REPORT"
