#!/usr/bin/env bash
# The echo benchmark of issue 3: keel's epoll server beside a C epoll server, Netty 4.2 on its
# epoll and io_uring transports, a JDK NIO Selector server and a plain C io_uring server (the
# reference of issue 4), in one run. Every server is
# pinned to SERVER_CPU, the load generator (native/echo/echo_load.c) to LOAD_CPU. Rounds are
# interleaved (each server once per round, in turn); the report takes the median of rounds.
#
#   bench/echo-bench.sh            # full run, ~10-15 minutes on 2 CPUs; writes BENCH-ECHO.md
#   QUICK=1 bench/echo-bench.sh    # one short round, ~2-3 minutes; report under bench/results/
#   bench/echo-bench.sh --report bench/results/echo-STAMP.jsonl   # report and plot again
#
# The echo matrix (issue 16), a mode of this script (`make bench-echo-matrix`):
#   MATRIX=1 bench/echo-bench.sh           # ~25 minutes on 2 CPUs; the "Echo matrix" block of BENCH-ECHO.md
#   MATRIX=1 QUICK=1 bench/echo-bench.sh   # one round, ~9 minutes; report under bench/results/
# 10, 100, 1,000, 5,000 and 19,000 connections (MATRIX_CONNS) x 64 B, 1 KiB, 16 KiB and 64 KiB
# messages (MATRIX_SIZES), one request in flight per connection, for c-epoll, keel-epoll,
# keel-io_uring, c-io_uring and netty-epoll (SERVERS) in the same run, 3 rounds of 0.5 s warm-up
# + 1.5 s timed per cell; RSS per idle connection at 19,000 (IDLE_CONNS). A round takes ~9 min
# (one QUICK round took 8 min 49 s on the shared 2-CPU machine): a 19,000-connection cell spends
# ~10 s connecting, sending the first 19,000 messages and closing, the others ~3.5 s. The soft limit of open
# files goes up to the hard one (20,000 here) for the servers and echo_load, and the run says
# what it got; keel echo gets --max-connections to match. One plot per size,
# bench/results/echo-matrix-<stamp>-<size>.png. Other work on the machine makes it longer (the
# quiet waits and the re-runs).
#
# Settings (environment): ROUNDS, WARMUP, DURATION (seconds per timed run), PRIME (seconds of
# load before anything is recorded), SETTLE (seconds before the idle RSS is read), SERVERS
# (space-separated subset, in order), BUSY_POLL_US, SERVER_CPU, LOAD_CPU, PORT_BASE,
# QUIET_MAX_PCT and QUIET_WAIT (before a timed run, wait up to QUIET_WAIT seconds for both
# CPUs to be less busy than that), NOISE_MAX_PCT and RETRIES (a timed run in which other work
# took more of the server's CPU is run again, up to RETRIES times), JAVA_OPTS (for every JVM
# server), REPORT (Markdown output), NO_BUILD=1 (use what is built).
#
# The machine may be shared: other work on the server's CPU is measured in every timed run
# (echo_load's other_cpu_s) and the report leaves noisy runs out of its medians.
#
# Writes bench/results/echo-<stamp>.jsonl (one JSON line per measurement, a meta line first),
# bench/results/echo-<stamp>.png (gnuplot; installed with apt-get when missing) and the report.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

QUICK=${QUICK:-0}
MATRIX=${MATRIX:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} WARMUP=${WARMUP:-0.5} DURATION=${DURATION:-1.5} PRIME=${PRIME:-1} SETTLE=${SETTLE:-1}
  QUIET_WAIT=${QUIET_WAIT:-10} RETRIES=${RETRIES:-0}
fi
if [ "$MATRIX" = 1 ]; then
  # 5 servers x 20 cells x 3 rounds, ~25 minutes (see above).
  ROUNDS=${ROUNDS:-3} WARMUP=${WARMUP:-0.5} DURATION=${DURATION:-1.5} QUIET_WAIT=${QUIET_WAIT:-10} RETRIES=${RETRIES:-1}
  SERVERS=${SERVERS:-"c-epoll keel-epoll keel-io_uring c-io_uring netty-epoll"}
fi
ROUNDS=${ROUNDS:-4}
WARMUP=${WARMUP:-1}
DURATION=${DURATION:-2}
PRIME=${PRIME:-1.5}
SETTLE=${SETTLE:-1}
BUSY_POLL_US=${BUSY_POLL_US:-200}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-$((20000 + RANDOM % 10000))}
NOISE_MAX_PCT=${NOISE_MAX_PCT:-15}
RETRIES=${RETRIES:-2}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-20}
JAVA_OPTS=${JAVA_OPTS:-}
SERVERS=${SERVERS:-"c-epoll keel-epoll keel-io_uring keel-io_uring+sqpoll netty-epoll netty-io_uring jdk-nio c-io_uring c-epoll+busy keel-epoll+busy"}
# Busy-poll rows answer one question (ping-pong latency without the server's wake-up).
BUSY_SCENARIOS="pingpong"
# name conns depth size
if [ "$MATRIX" = 1 ]; then
  # The echo matrix: every connection count x every message size, one request in flight per
  # connection; the idle measurement at the largest count.
  MATRIX_CONNS=${MATRIX_CONNS:-"10 100 1000 5000 19000"}
  MATRIX_SIZES=${MATRIX_SIZES:-"64 1024 16384 65536"}
  SCENARIOS=()
  for size in $MATRIX_SIZES; do
    for conns in $MATRIX_CONNS; do SCENARIOS+=("m-$conns-$size $conns 1 $size"); done
  done
  IDLE_CONNS=${IDLE_CONNS:-19000}
else
  SCENARIOS=(
    "pingpong 1 1 64"
    "64x16 64 16 64"
    "16k 16 4 16384"
    "sweep-10 10 1 64"
    "sweep-100 100 1 64"
    "sweep-1000 1000 1 64"
    "sweep-10000 10000 1 64"
  )
  IDLE_CONNS=10000
fi
# The most connections one process holds at once: the server and echo_load each need that many
# descriptors and some to spare; keel's loop needs a connection table as large.
max_conns=$IDLE_CONNS
for s in "${SCENARIOS[@]}"; do
  read -r _ conns _ <<<"$s"
  [ "$conns" -le "$max_conns" ] || max_conns=$conns
done
# Not more than that and some to spare: keel's io_uring transport registers a fixed-file table of
# twice its connections, halved until RLIMIT_NOFILE (20,000 here) allows it; 19,500 connections
# get a table of 19,500, 20,024 only 10,012.
keel_opts=()
[ $((max_conns + 500)) -le 16384 ] || keel_opts=(--max-connections $((max_conns + 500)))

say() { echo "echo-bench: $*" >&2; }
die() { say "$*"; exit 1; }

report_only=
if [ "${1:-}" = --report ]; then
  report_only=${2:-}
  [ -f "$report_only" ] || die "usage: echo-bench.sh --report bench/results/echo-STAMP.jsonl"
  NO_BUILD=1
fi

# ---------------------------------------------------------------- build and tools
java_home=$(scripts/find-jdk.sh) || exit 1
java="$java_home/bin/java"
command -v taskset >/dev/null || die "needs taskset (util-linux)"
if [ "${NO_BUILD:-0}" != 1 ]; then
  say "building (native, bin/keel, bench jar and its classpath)"
  make -s -C native JAVA_HOME="$java_home" >/dev/null
  make -s build >/dev/null
fi
bench_jar=$(ls -t bench/target/bench-*.jar 2>/dev/null | grep -v -e -sources -e -tests -e -javadoc | head -n 1 || true)
if [ -z "$bench_jar" ] || ! ls bench/target/lib/netty-transport-native-io_uring-*.jar >/dev/null 2>&1; then
  [ "${NO_BUILD:-0}" != 1 ] || [ -n "$report_only" ] || die "bench jar or bench/target/lib missing; run without NO_BUILD=1"
  JAVA_HOME=$java_home ./mvnw -q -B --no-transfer-progress -pl bench -am package -DskipTests
  bench_jar=$(ls -t bench/target/bench-*.jar | grep -v -e -sources -e -tests -e -javadoc | head -n 1)
fi
bench_cp="$bench_jar:bench/target/lib/*"

. bench/bench-lib.sh
bench_need_gnuplot

# The Markdown report and the plots of one results file: BENCH-ECHO.md (EchoReport) and one plot,
# or, for the matrix, its block of the report (EchoMatrixReport) and one plot per message size.
report_and_plot() { # results.jsonl report.md plot.png
  local plot_dir block size
  plot_dir=$(mktemp -d)
  if [ "$MATRIX" = 1 ]; then
    block=$("$java" -cp "$bench_cp" dev.keel.bench.echo.EchoMatrixReport "$1" "$plot_dir" \
      "$(realpath --relative-to="$(dirname "$2")" "${3%.png}")")
    for size in $(ls "$plot_dir" | sort -n); do draw "$plot_dir/$size" "${3%.png}-$size.png"; done
    bench_replace_block "$2" echo-matrix "$block" \
      || printf '# Echo matrix\n\n<!-- echo-matrix -->\n%s\n<!-- /echo-matrix -->\n' "$block" > "$2"
  else
    "$java" -cp "$bench_cp" dev.keel.bench.echo.EchoReport "$1" "$2" "$plot_dir" \
      "$(realpath --relative-to="$(dirname "$2")" "$3")" bench/echo-notes.md
    draw "$plot_dir" "$3"
  fi
  rm -rf "$plot_dir"
  say "report: $2, plot(s): ${3%.png}*.png"
}

draw() { # plot-data-dir plot.png
  if command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$1'; out='$2'" bench/echo-plot.gp
  else
    say "no gnuplot: $2 not drawn"
  fi
}

if [ -n "$report_only" ]; then
  case "$report_only" in */echo-matrix-*|echo-matrix-*) MATRIX=1 ;; esac
  case "$report_only" in
    *-quick.jsonl) REPORT=${REPORT:-${report_only%.jsonl}.md} ;;
    *) REPORT=${REPORT:-BENCH-ECHO.md} ;;
  esac
  report_and_plot "$report_only" "$REPORT" "${report_only%.jsonl}.png"
  exit 0
fi

load=native/build/echo_load
[ -x "$load" ] && [ -x native/build/c_epoll_echo ] && [ -x bin/keel ] || die "not built: native/build or bin/keel missing"

# Each side holds up to max_conns sockets (the sweep, the matrix, the idle measurement): the soft
# limit of open files goes up to the hard one, which the servers and echo_load inherit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile="$(ulimit -n) (hard limit $(ulimit -Hn))"
say "open files per process: soft limit $nofile; the run needs $((max_conns + 200))"
[ "$(ulimit -n)" -ge $((max_conns + 200)) ] \
  || die "needs $((max_conns + 200)) open files per process, the hard limit is $(ulimit -Hn) (raise it with ulimit -Hn as root)"

# ---------------------------------------------------------------- results
stamp=$(date -u +%Y%m%d-%H%M)
mkdir -p bench/results
suffix=$([ "$QUICK" = 1 ] && echo -quick || true)
kind=$([ "$MATRIX" = 1 ] && echo echo-matrix || echo echo)
results="bench/results/$kind-$stamp$suffix.jsonl"
png="bench/results/$kind-$stamp$suffix.png"
if [ "$QUICK" = 1 ]; then REPORT=${REPORT:-bench/results/$kind-$stamp-quick.md}; else REPORT=${REPORT:-BENCH-ECHO.md}; fi
: > "$results"
tmp=$(mktemp -d)

json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n\t' '  '; }
lscpu_field() { lscpu 2>/dev/null | sed -n "s/^$1:[[:space:]]*//p" | head -n 1 | sed "s/[[:space:]]*$//"; }
meta() {
  local jdk netty
  jdk="$(sed -n 's/^IMPLEMENTOR="\(.*\)"/\1/p' "$java_home/release") $(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$java_home/release")"
  netty=$(ls bench/target/lib/netty-transport-[0-9]*.jar | sed 's/.*netty-transport-\(.*\)\.jar/\1/')
  printf '{"meta":true,"date":"%s","quick":%s,"rounds":%s,"warmup_s":%s,"duration_s":%s,"prime_s":%s,"settle_s":%s,' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$QUICK" "$ROUNDS" "$WARMUP" "$DURATION" "$PRIME" "$SETTLE"
  printf '"matrix":%s,"idle_conns":%s,"nofile":"%s","busy_poll_us":%s,"server_cpu":%s,"load_cpu":%s,"noise_max_pct":%s,"retries":%s,"quiet_max_pct":%s,"quiet_wait_s":%s,"java_opts":"%s",' \
    "$MATRIX" "$IDLE_CONNS" "$nofile" "$BUSY_POLL_US" "$SERVER_CPU" "$LOAD_CPU" "$NOISE_MAX_PCT" "$RETRIES" "$QUIET_MAX_PCT" "$QUIET_WAIT" "$(printf '%s' "${JAVA_OPTS:-none}" | json_escape)"
  printf '"kernel":"%s","cpu_model":"%s","cpus":"%s","threads_per_core":"%s","numa_nodes":"%s","hypervisor":"%s",' \
    "$(uname -r)" "$(lscpu_field 'Model name' | json_escape)" "$(lscpu_field 'CPU(s)')" \
    "$(lscpu_field 'Thread(s) per core')" "$(lscpu_field 'NUMA node(s)')" "$(lscpu_field 'Hypervisor vendor' | json_escape)"
  printf '"jdk":"%s","netty":"%s","cc":"%s","mem":"%s","loadavg":"%s"}\n' \
    "$(printf '%s' "$jdk" | json_escape)" "$netty" "$(cc --version | head -n 1 | json_escape)" \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}
meta >> "$results"

# ---------------------------------------------------------------- servers
spid=
cleanup() {
  if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
    kill -TERM "$spid" 2>/dev/null || true
    sleep 1
    kill -KILL "$spid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -ra java_opts <<<"$JAVA_OPTS"
server_cmd() { # name port -> sets cmd, the server's command as an array
  local jvm=("$java" --enable-native-access=ALL-UNNAMED "${java_opts[@]}" -cp "$bench_cp")
  case "$1" in
    c-epoll) cmd=(native/build/c_epoll_echo "$2") ;;
    c-epoll+busy) cmd=(native/build/c_epoll_echo "$2" "$BUSY_POLL_US") ;;
    c-io_uring) cmd=(native/build/c_uring_echo "$2") ;;
    keel-epoll) cmd=(bin/keel echo --port "$2" --cpus "$SERVER_CPU" "${keel_opts[@]}") ;;
    keel-epoll+busy) cmd=(bin/keel echo --port "$2" --cpus "$SERVER_CPU" "${keel_opts[@]}" --busy-poll "$BUSY_POLL_US") ;;
    keel-io_uring) cmd=(bin/keel echo --port "$2" --cpus "$SERVER_CPU" "${keel_opts[@]}" --transport io_uring) ;;
    # The SQPOLL kernel thread shares the server's CPU (--sqpoll pins it to the loop's CPU): on
    # the load generator's CPU it would starve the load.
    keel-io_uring+sqpoll) cmd=(bin/keel echo --port "$2" --cpus "$SERVER_CPU" "${keel_opts[@]}" --transport io_uring --sqpoll 2) ;;
    netty-epoll) cmd=("${jvm[@]}" dev.keel.bench.echo.NettyEpollEcho "$2") ;;
    netty-io_uring) cmd=("${jvm[@]}" dev.keel.bench.echo.NettyIoUringEcho "$2") ;;
    jdk-nio) cmd=("${jvm[@]}" dev.keel.bench.echo.JdkNioEcho "$2") ;;
    *) return 1 ;;
  esac
}
for server in $SERVERS; do server_cmd "$server" 0 || die "unknown server '$server' in SERVERS"; done

port=$PORT_BASE
start_server() { # name -> sets spid, port; returns 1 when it did not come up
  port=$((port + 1))
  server_cmd "$1" "$port"
  bench_start_server "$SERVER_CPU" "$tmp/server" "${cmd[@]}"
}

stop_server() { # and files what the server said on stderr, if anything, as a "log" row
  bench_stop_server
  if [ -s "$tmp/server.err" ]; then
    record "$server" log "$round" log "\"text\":\"$(sort "$tmp/server.err" | uniq -c | sort -rn | head -n 5 | cut -c1-300 | json_escape)\"}"
  fi
}

# ---------------------------------------------------------------- measuring
wait_for_quiet() {
  local waited=0
  while [ "$(bench_busy_pct)" -gt "$QUIET_MAX_PCT" ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    [ "$waited" = 0 ] && say "  other work on the machine; waiting up to ${QUIET_WAIT}s for it to calm down"
    sleep 1
    waited=$((waited + 1))
  done
}

record() { # server scenario round status json-rest
  printf '{"server":"%s","scenario":"%s","round":%s,"status":"%s","t_s":%s,%s\n' "$1" "$2" "$3" "$4" \
    "$((SECONDS - started))" "$5" >> "$results"
}

field() { sed -n "s/.*\"$1\":\([-0-9.]*\).*/\1/p" <<<"$2"; }

# measure server scenario round echo_load-args...
measure() {
  local server=$1 scenario=$2 round=$3 attempt line rc noisy
  shift 3
  for attempt in $(seq 0 "$RETRIES"); do
    if ! kill -0 "$spid" 2>/dev/null; then
      record "$server" "$scenario" "$round" failed "\"error\":\"server exited: $(tail -n 1 "$tmp/server.err" | json_escape)\"}"
      say "  $scenario: FAILED, the server is gone"
      return 1
    fi
    wait_for_quiet
    rc=0
    line=$(taskset -c "$LOAD_CPU" "$load" --port "$port" --server-pid "$spid" --server-cpu "$SERVER_CPU" \
      --load-cpu "$LOAD_CPU" "$@" \
      2>"$tmp/load.err") || rc=$?
    if [ "$rc" != 0 ] || [ -z "$line" ]; then
      local why
      why=$(tail -n 1 "$tmp/load.err" | json_escape)
      [ -n "$why" ] || why="echo_load exit $rc"
      if [ -n "$line" ] && [ "$(field corrupt "$line")" != 0 ]; then why="$(field corrupt "$line") corrupted bytes"; fi
      record "$server" "$scenario" "$round" failed "\"error\":\"$why\"${line:+,\"load\":\"$(json_escape <<<"$line")\"}}"
      say "  $scenario: FAILED: $why"
      return 0
    fi
    # other_cpu_s / load_other_cpu_s: the server's / the load generator's CPU busy with anything
    # else (other programs, their kernel work); well under 10% of the run on a quiet machine.
    noisy=$(awk -v o="$(field other_cpu_s "$line")" -v l="$(field load_other_cpu_s "$line")" \
      -v s="$(field seconds "$line")" -v m="$NOISE_MAX_PCT" \
      'BEGIN {if (l > o) o = l; print (o != "" && s > 0 && 100 * o / s > m) ? 1 : 0}')
    if [ "$noisy" = 1 ] && [ "$attempt" -lt "$RETRIES" ]; then
      record "$server" "$scenario" "$round" discarded "${line#\{}"
      say "  $scenario: other work took $(field other_cpu_s "$line") s of the server's CPU, $(field load_other_cpu_s "$line") s of the load's; again"
      continue
    fi
    record "$server" "$scenario" "$round" "$([ "$noisy" = 1 ] && echo noisy || echo ok)" "${line#\{}"
    if [ -n "$(field rps "$line")" ]; then
      say "  $scenario: $(field rps "$line") req/s, p50 $(field p50_us "$line") us, p95 $(field p95_us "$line") us, p99 $(field p99_us "$line") us, $(field cpu_us_per_req "$line") us CPU/req"
    else
      say "  $scenario: $(field rss_per_conn_bytes "$line") B RSS per idle connection"
    fi
    return 0
  done
}

prime() { # untimed load so the JIT has compiled the echo path before anything is recorded
  local half
  half=$(awk -v p="$PRIME" 'BEGIN {print p / 2}')
  taskset -c "$LOAD_CPU" "$load" --port "$port" --conns 64 --depth 16 --size 64 --warmup 0 --duration "$half" >/dev/null 2>&1 || true
  taskset -c "$LOAD_CPU" "$load" --port "$port" --conns 16 --depth 4 --size 16384 --warmup 0 --duration "$half" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- the run
started=$SECONDS
say "results -> $results; $ROUNDS round(s), ${WARMUP}s warm-up + ${DURATION}s per timed run; servers: $SERVERS"
for round in $(seq "$ROUNDS"); do
  for server in $SERVERS; do
    say "round $round/$ROUNDS: $server"
    if ! start_server "$server"; then
      why=$(tail -n 1 "$tmp/server.err" | json_escape)
      record "$server" pingpong "$round" failed "\"error\":\"did not start: ${why:-no ready line}\"}"
      say "  did not start: $why"
      stop_server
      continue
    fi
    prime
    busy=0
    case "$server" in *+busy) busy=1 ;; esac
    if [ "$busy" = 0 ]; then
      measure "$server" "idle-$IDLE_CONNS" "$round" --conns "$IDLE_CONNS" --idle --settle "$SETTLE" || { stop_server; continue; }
    fi
    for s in "${SCENARIOS[@]}"; do
      read -r name conns depth size <<<"$s"
      if [ "$busy" = 1 ] && [[ " $BUSY_SCENARIOS " != *" $name "* ]]; then continue; fi
      measure "$server" "$name" "$round" --conns "$conns" --depth "$depth" --size "$size" \
        --warmup "$WARMUP" --duration "$DURATION" || break
    done
    stop_server
  done
done

# ---------------------------------------------------------------- report and plot
say "measured in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
report_and_plot "$results" "$REPORT" "$png"
