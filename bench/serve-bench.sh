#!/usr/bin/env bash
# keel serve beside nginx and a Netty 4.2 file server on static files: 1 KiB, 16 KiB, 1 MiB,
# 64 MiB; 1 and 64 connections; plus keel proxy in front of nginx.
#
#   bench/serve-bench.sh             # full run (~15 min): BENCH-SERVE.md, bench/results/serve-<stamp>.{csv,png}
#   QUICK=1 bench/serve-bench.sh     # one short round (~4 min); report under bench/results/ only
#   bench/serve-bench.sh --report bench/results/serve-<stamp>.csv   # report and plot again
#
# Settings (environment): ROUNDS, DURATION and WARMUP (seconds per timed / warm-up run),
# SERVER_CPU, CLIENT_CPU, KEEL_PORT, NGINX_PORT, PROXY_PORT, NETTY_PORT, PROXY=0 (no proxy
# rows), NETTY=0 (no Netty rows), QUIET_MAX_PCT and QUIET_WAIT (before a timed run, wait up to
# QUIET_WAIT seconds for the machine to be less busy than that), NOISE_MAX_PCT and RETRIES (a
# run during which other work took more of the machine is repeated, up to RETRIES times),
# RETRY_BUDGET (seconds of waiting and repeating, at most, so a run on a busy machine still
# ends in bounded time), NO_BUILD=1, REPORT (Markdown output).
#
# Every server keeps its default of 1000 requests per connection (nginx keepalive_requests).
# Server on CPU 0, wrk on CPU 1 (taskset); one worker/loop each; rounds interleaved (every
# round runs every server on every case) so drift of the machine hits all alike. Other work
# on the machine is measured during each run (busy time of all CPUs from /proc/stat, minus
# the servers' and wrk's own); the noise of the run kept is in the CSV. Reports the median
# over rounds of requests/s, MB/s and server CPU time per request (utime+stime of the server
# process from /proc, over the run, divided by the requests wrk completed).
# nginx: Debian's package, one process (master_process off) pinned by taskset like keel,
# sendfile on, tcp_nopush on, access_log off, an open_file_cache like keel's.
# Netty: dev.keel.bench.serve.NettyFileServer (bench module): one epoll loop, DefaultFileRegion
# (sendfile), an open-file cache, the same answer fields as keel.
# Installs nginx, wrk and gnuplot-nox with apt-get when they are missing.
# The report (tables, plot, settings) is written from the CSV by report(); the "keel proxy in
# front of the C echo server" block (bench/proxy-bench.sh) and the Analysis section of an
# existing BENCH-SERVE.md are kept.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
. bench/bench-lib.sh

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-3} WARMUP=${WARMUP:-2} RETRIES=${RETRIES:-0} QUIET_WAIT=${QUIET_WAIT:-5}
  RETRY_BUDGET=${RETRY_BUDGET:-30}
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-5}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
KEEL_PORT=${KEEL_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
PROXY_PORT=${PROXY_PORT:-18082}
NETTY_PORT=${NETTY_PORT:-18083}
PROXY=${PROXY:-1}
NETTY=${NETTY:-1}
NOISE_MAX_PCT=${NOISE_MAX_PCT:-15}
RETRIES=${RETRIES:-2}
QUIET_WAIT=${QUIET_WAIT:-20}
RETRY_BUDGET=${RETRY_BUDGET:-300}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-10}
SIZES=(1k 16k 1m 64m)
CONNS=(1 64)

say() { echo "serve-bench: $*" >&2; }
die() { say "$*"; exit 1; }
median_awk='function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return ""
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }'

# ---------------------------------------------------------------- report and plot
# report CSV OUT.md: tables from the CSV (its settings from CSV's .env beside it), the plot
# next to the CSV, and the kept blocks of OUT.md.
report() {
  local csv=$1 out=$2 png=${1%.csv}.png env=${1%.csv}.env plotdir
  # Settings of the run; an older CSV without them gets what this script would use.
  local M_DATE="" M_KEEL="" M_CPU="" M_NCPU="" M_KERNEL="" M_JAVA="" M_NGINX="" M_NETTY="" M_ROUNDS=$ROUNDS \
    M_DURATION=$DURATION M_WARMUP=$WARMUP M_NOISE_MAX=$NOISE_MAX_PCT M_RETRIES=$RETRIES M_QUICK=$QUICK \
    M_SERVER_CPU=$SERVER_CPU M_CLIENT_CPU=$CLIENT_CPU
  # shellcheck disable=SC1090
  [ -f "$env" ] && . "$env"
  plotdir=$(mktemp -d)
  # Medians per case and server; per-round ratios; the plot's tables.
  # The medians leave out runs noisier than NOISE_MAX_PCT when a case and server has a quiet
  # one (as echo-bench does); a cell that had none is the median of all its runs, marked "*".
  awk -F, -v dir="$plotdir" -v m="$M_NOISE_MAX" "$median_awk"'
    NR == 1 || /^#/ { next }
    { k = $3 "," $4 "," $2; r[$1 "," k] = $6; rounds[$1] = 1; noise[$3 "," $4] = noise[$3 "," $4] " " $9; have[$2] = 1
      a_rps[k] = a_rps[k] " " $6; a_mb[k] = a_mb[k] " " $7; a_cpu[k] = a_cpu[k] " " $8
      if ($9 + 0 <= m) { q_rps[k] = q_rps[k] " " $6; q_mb[k] = q_mb[k] " " $7; q_cpu[k] = q_cpu[k] " " $8 } }
    END {
      for (k in a_rps) {
        if (k in q_rps) { rps[k] = q_rps[k]; mb[k] = q_mb[k]; cpu[k] = q_cpu[k] }
        else { rps[k] = a_rps[k]; mb[k] = a_mb[k]; cpu[k] = a_cpu[k]; noisy[k] = "*" }
      }
      report()
    }
    function fmt(v, f) { return v == "" ? "–" : sprintf(f, v) }
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "" : a / b }
    function maxof(list,   a, n, i, m) { n = split(list, a, " "); m = ""; for (i = 1; i <= n; i++) if (m == "" || a[i] + 0 > m + 0) m = a[i]; return m }
    function report(   i, j, c, k, n, t, rn, rt, x, label, p, rp) {
      split("1k 16k 1m 64m", sizes, " "); split("1 64", conns, " ")
      print "case keel nginx netty" > (dir "/rel.dat"); print "case keel nginx netty" > (dir "/cpu.dat")
      for (i = 1; i <= 4; i++) for (j = 1; j <= 2; j++) {
        c = sizes[i] "," conns[j]
        k = median(rps[c ",keel"]); n = median(rps[c ",nginx"]); t = median(rps[c ",netty"])
        printf "| %s | %s | %s%s | %s%s | %s%s | **%s** | **%s** | %s | %s | %s | %s | %s | %s |\n", sizes[i], conns[j],
          fmt(k, "%.0f"), noisy[c ",keel"], fmt(n, "%.0f"), noisy[c ",nginx"], fmt(t, "%.0f"), noisy[c ",netty"], fmt(ratio(k, n), "%.2f"), fmt(ratio(k, t), "%.2f"),
          fmt(median(mb[c ",keel"]), "%.1f"), fmt(median(mb[c ",nginx"]), "%.1f"), fmt(median(mb[c ",netty"]), "%.1f"),
          fmt(median(cpu[c ",keel"]), "%.1f"), fmt(median(cpu[c ",nginx"]), "%.1f"), fmt(median(cpu[c ",netty"]), "%.1f") > (dir "/main.md")
        rn = ""; rt = ""
        for (x = 1; x in rounds; x++) {
          rn = rn sprintf(" %s", fmt(ratio(r[x "," c ",keel"], r[x "," c ",nginx"]), "%.2f"))
          rt = rt sprintf(" %s", fmt(ratio(r[x "," c ",keel"], r[x "," c ",netty"]), "%.2f"))
        }
        printf "| %s | %s |%s |%s | %s | %s |\n", sizes[i], conns[j], rn, rt, fmt(median(noise[c]), "%.1f"),
          fmt(maxof(noise[c]), "%.1f") > (dir "/rounds.md")
        label = sizes[i] "x" conns[j]
        printf "%s %s 1 %s\n", label, (n > 0 && k != "" ? k / n : "?"), (n > 0 && t != "" ? t / n : "?") > (dir "/rel.dat")
        printf "%s %s %s %s\n", label, fmt(median(cpu[c ",keel"]), "%.2f"), fmt(median(cpu[c ",nginx"]), "%.2f"),
          (t == "" ? "?" : median(cpu[c ",netty"])) > (dir "/cpu.dat")
      }
      for (i = 1; i <= 4; i++) {
        p = sizes[i] ",64,proxy"
        if (!(p in rps)) continue
        rp = median(rps[p]); rn = median(rps[sizes[i] ",64,nginx"])
        printf "| %s | 64 | %.0f | %.0f | **%.2f** | %.1f | %.1f |\n", sizes[i], rp, rn, ratio(rp, rn), median(mb[p]), median(cpu[p]) > (dir "/proxy.md")
      }
      printf "%s\n", (have["netty"] ? 1 : 0) > (dir "/netty")
    }' "$csv"
  sed -i 's/\*\*–\*\*/–/g' "$plotdir/main.md"
  local noise_med noise_max noisy_runs
  noise_med=$(awk -F, 'NR > 1 && !/^#/ { print $9 }' "$csv" | sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : 0) }')
  noise_max=$(awk -F, 'NR > 1 && !/^#/ { print $9 }' "$csv" | sort -n | tail -n 1)
  noisy_runs=$(awk -F, -v m="$M_NOISE_MAX" 'NR > 1 && !/^#/ && $9 + 0 > m { n++ } END { print n + 0 }' "$csv")
  local total_runs
  total_runs=$(awk -F, 'NR > 1 && !/^#/ { n++ } END { print n + 0 }' "$csv")
  if command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$plotdir'; out='$png'" bench/serve-plot.gp || say "gnuplot failed; no plot"
  else
    say "no gnuplot: $png not drawn"
  fi
  local png_rel
  png_rel=$(realpath -m --relative-to="$(dirname "$out")" "$png")
  {
    echo "# keel serve beside nginx and Netty"
    echo
    echo "Measured ${M_DATE:-?} by \`bench/serve-bench.sh\`$([ "$M_QUICK" = 1 ] && echo " (QUICK=1: one short round, for validation only)") on ${M_CPU:-?} (${M_NCPU:-?} CPUs), Linux ${M_KERNEL:-?},"
    echo "${M_JAVA:-?}, keel at commit ${M_KEEL:-?}, nginx ${M_NGINX:-?}, Netty ${M_NETTY:-?}."
    echo "Server pinned to CPU $M_SERVER_CPU (one loop / one worker), wrk -t1 on CPU $M_CLIENT_CPU, keep-alive, $M_ROUNDS interleaved"
    echo "round(s) of ${M_DURATION}s per case after a ${M_WARMUP}s warm-up per server and size; medians of rounds."
    echo "A run during which other processes used more than ${M_NOISE_MAX}% of the machine was repeated (up to $M_RETRIES"
    echo "times, within a bounded budget); noise of the runs kept: median ${noise_med}%, max ${noise_max}%; $noisy_runs of $total_runs runs"
    echo "kept above ${M_NOISE_MAX}%. The medians leave those out where a case and server has a quieter run;"
    echo "a req/s marked * had none (the median of all its runs: read it as disturbed). Raw numbers: \`$csv\`."
    echo
    echo "- keel: \`keel serve --loops 1\`; small files (up to 8 KiB) from memory with writev, larger with sendfile."
    echo "- nginx: one process, sendfile on, tcp_nopush on, access_log off, open_file_cache."
    echo "- Netty: \`dev.keel.bench.serve.NettyFileServer\`, Netty 4.2 native epoll, one loop, HttpServerCodec,"
    echo "  the body as a DefaultFileRegion (sendfile), open files cached; the same answer fields as keel."
    echo
    echo "| file | conns | keel req/s | nginx req/s | Netty req/s | keel/nginx | keel/Netty | keel MB/s | nginx MB/s | Netty MB/s | keel CPU µs/req | nginx CPU µs/req | Netty CPU µs/req |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    cat "$plotdir/main.md"
    echo
    [ -f "$png" ] && { echo "![req/s relative to nginx and server CPU per request, per case]($png_rel)"; echo; }
    echo "Per-round ratios (round 1, 2, ...) and the noise of the runs kept, per case:"
    echo
    echo "| file | conns | keel/nginx per round | keel/Netty per round | noise median % | noise max % |"
    echo "|---|---|---|---|---|---|"
    cat "$plotdir/rounds.md"
    echo
    if [ -s "$plotdir/proxy.md" ]; then
      echo "### keel proxy in front of nginx"
      echo
      echo "wrk -> \`keel proxy\` (epoll, one loop) -> nginx, against wrk -> nginx; proxy and nginx share CPU $M_SERVER_CPU."
      echo "CPU µs/req is the proxy's own."
      echo
      echo "| file | conns | via proxy req/s | direct req/s | proxy/direct | via proxy MB/s | proxy CPU µs/req |"
      echo "|---|---|---|---|---|---|---|"
      cat "$plotdir/proxy.md"
      echo
    fi
    if [ -f "$out" ] && grep -q '^<!-- proxy-echo -->' "$out"; then
      sed -n '/^<!-- proxy-echo -->/,/^<!-- \/proxy-echo -->/p' "$out"
      echo
    fi
    if [ -f "$out" ] && grep -q '^## Analysis' "$out"; then
      sed -n '/^## Analysis/,$p' "$out"
    elif [ "$M_QUICK" != 1 ]; then
      echo "## Analysis"
      echo
      echo "(to be written from the numbers above)"
    fi
  } > "$out.new"
  mv "$out.new" "$out"
  rm -rf "$plotdir"
  say "wrote $out${png:+ and $png}"
}

if [ "${1:-}" = --report ]; then
  [ -f "${2:-}" ] || die "usage: serve-bench.sh --report bench/results/serve-STAMP.csv [OUT.md]"
  bench_need_gnuplot
  case "$2" in *-quick.csv) def=${2%.csv}.md ;; *) def=BENCH-SERVE.md ;; esac
  report "$2" "${3:-${REPORT:-$def}}"
  exit 0
fi

# ---------------------------------------------------------------- tools and build
bench_need nginx:nginx wrk:wrk taskset:util-linux curl:curl || exit 1
bench_need_gnuplot
java_home=$(scripts/find-jdk.sh) || exit 1
java="$java_home/bin/java"
if [ "${NO_BUILD:-0}" != 1 ] && [ ! -x bin/keel ]; then make -s build >/dev/null; fi
[ -x bin/keel ] || die "bin/keel is missing; run 'make build' first"
nginx_bin=$(command -v nginx)
if [ "$NETTY" = 1 ]; then
  bench_jar=$(ls -t bench/target/bench-*.jar 2>/dev/null | grep -v -e -sources -e -tests -e -javadoc | head -n 1 || true)
  if [ -z "$bench_jar" ] || ! ls bench/target/lib/netty-codec-http-*.jar >/dev/null 2>&1; then
    [ "${NO_BUILD:-0}" != 1 ] || die "bench jar or bench/target/lib missing; run without NO_BUILD=1"
    JAVA_HOME=$java_home ./mvnw -q -B --no-transfer-progress -pl bench -am package -DskipTests
    bench_jar=$(ls -t bench/target/bench-*.jar | grep -v -e -sources -e -tests -e -javadoc | head -n 1)
  fi
fi

work=bench/results/tmp/serve
mkdir -p "$work/www" "$work/nginx/logs" bench/results
for s in "${SIZES[@]}"; do
  f="$work/www/$s.bin"
  if [ ! -f "$f" ]; then
    case $s in
      1k) n=1024 ;; 16k) n=16384 ;; 1m) n=1048576 ;; 64m) n=67108864 ;;
    esac
    head -c "$n" /dev/urandom > "$f"
  fi
done

cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $here/$work/nginx/nginx.pid;
error_log $here/$work/nginx/logs/error.log warn;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 1s;
  default_type application/octet-stream;
  client_body_temp_path $here/$work/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport;
    root $here/$work/www;
  }
}
EOF
mkdir -p "$work/nginx/tmp"

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on $1"
}

# bin/keel execs java, so its pid is the JVM's; taskset execs its command too.
taskset -c "$SERVER_CPU" bin/keel serve --root "$work/www" --port "$KEEL_PORT" --loops 1 --cpus "$SERVER_CPU" \
  > "$work/keel.out" 2>&1 &
keel_pid=$!
pids+=("$keel_pid")
taskset -c "$SERVER_CPU" "$nginx_bin" -p "$here/$work/nginx" -c "$here/$work/nginx/nginx.conf" > "$work/nginx.out" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$KEEL_PORT"
wait_port "$NGINX_PORT"
servers="keel nginx"
if [ "$NETTY" = 1 ]; then
  taskset -c "$SERVER_CPU" "$java" --enable-native-access=ALL-UNNAMED -cp "$bench_jar:bench/target/lib/*" \
    dev.keel.bench.serve.NettyFileServer "$NETTY_PORT" "$work/www" > "$work/netty.out" 2>&1 &
  netty_pid=$!
  pids+=("$netty_pid")
  wait_port "$NETTY_PORT"
  servers="$servers netty"
fi
if [ "$PROXY" = 1 ]; then
  # keel proxy in front of nginx, on the server's CPU too: the proxy row compares wrk -> proxy
  # -> nginx with wrk -> nginx, both sharing CPU SERVER_CPU.
  taskset -c "$SERVER_CPU" bin/keel proxy --port "$PROXY_PORT" --to "127.0.0.1:$NGINX_PORT" > "$work/proxy.out" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_port "$PROXY_PORT"
fi
say "servers: $servers$([ "$PROXY" = 1 ] && echo " proxy") (pids ${pids[*]})"

# Every server must answer the same bytes: a wrong answer would make any number meaningless.
for s in 1k 16k; do
  for port in $KEEL_PORT $NGINX_PORT $([ "$NETTY" = 1 ] && echo "$NETTY_PORT") $([ "$PROXY" = 1 ] && echo "$PROXY_PORT"); do
    curl -sf "http://127.0.0.1:$port/$s.bin" | cmp -s - "$work/www/$s.bin" || die "port $port did not send $s.bin intact"
  done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || { say "process $1 is gone"; echo 0; }; }
hz=$(getconf CLK_TCK)

# "busy total" ticks of the whole machine from /proc/stat: busy = user + nice + system +
# steal (softirq is left out: on loopback it is mostly our own traffic's packet processing).
# /proc/stat sees every process of the machine, also those of other containers, which
# /proc/<pid> would not show.
cpu_snapshot() { awk '$1 == "cpu" { print $2 + $3 + $4 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
# Percent of the machine used by others: busy ticks between snapshots "$1" and "$2", minus
# the ticks of our own processes "$3".
noise_pct() {
  awk -v a="$1" -v b="$2" -v ours="$3" 'BEGIN { split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1] - ours; total = y[2] - x[2]
    printf "%.1f", (total > 0 && busy > 0 ? 100 * busy / total : 0) }'
}
# CPU ticks of every server process of this benchmark (idle ones use next to nothing).
servers_ticks() {
  local t=0 p
  for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(cpu_ticks "$p")))
  done
  echo "$t"
}
started=$SECONDS
retry_spent=0
# Before a timed run: wait (up to QUIET_WAIT s) for other work to calm down, while the budget lasts.
quiet_before_run() {
  local left=$((RETRY_BUDGET - retry_spent)) w
  [ "$left" -gt 0 ] || return 0
  w=$(bench_wait_quiet "$QUIET_MAX_PCT" $((left < QUIET_WAIT ? left : QUIET_WAIT)))
  retry_spent=$((retry_spent + w))
  [ "$w" = 0 ] || say "waited ${w}s for other work to calm down"
}

# wrk's summary -> "requests req_per_s bytes_per_s"; wrk's own CPU ticks go to $work/wrk.ticks.
run_wrk() {
  local port=$1 file=$2 conns=$3 secs=$4 TIMEFORMAT='%3U %3S'
  { time taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${secs}s" --timeout 60s \
      "http://127.0.0.1:$port/$file.bin" > "$work/wrk.out" 2>&1 ; } 2> "$work/wrk.time"
  awk -v hz="$hz" '{ printf "%d\n", ($1 + $2) * hz }' "$work/wrk.time" > "$work/wrk.ticks"
  awk '
    / requests in / { req = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /^Transfer\/sec:/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v);
                        m = (u == "GB") ? 1024^3 : (u == "MB") ? 1024^2 : (u == "KB") ? 1024 : 1; bps = v * m }
    /Socket errors|Non-2xx/ { err = err " " $0 }
    END { printf "%d %.1f %.0f%s\n", req, rps, bps, (err != "" ? " #" err : "") }' "$work/wrk.out"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)$([ "$QUICK" = 1 ] && echo -quick || true)
csv=bench/results/serve-$stamp.csv
cat > "${csv%.csv}.env" <<EOF
M_DATE='$(date -u '+%Y-%m-%d %H:%M UTC')'
M_CPU='$(awk -F: '/model name/ { sub(/^ /, "", $2); print $2; exit }' /proc/cpuinfo)'
M_NCPU='$(nproc)'
M_KEEL='$(git rev-parse --short HEAD 2>/dev/null || echo unknown)'
M_KERNEL='$(uname -r)'
M_JAVA='$("$java" -version 2>&1 | head -n 1)'
M_NGINX='$($nginx_bin -v 2>&1 | sed 's/.*nginx\///')'
M_NETTY='$([ "$NETTY" = 1 ] && ls bench/target/lib/netty-codec-http-*.jar | sed 's/.*netty-codec-http-\(.*\)\.jar/\1/' || echo "not run")'
M_ROUNDS='$ROUNDS'
M_DURATION='$DURATION'
M_WARMUP='$WARMUP'
M_NOISE_MAX='$NOISE_MAX_PCT'
M_RETRIES='$RETRIES'
M_QUICK='$QUICK'
M_SERVER_CPU='$SERVER_CPU'
M_CLIENT_CPU='$CLIENT_CPU'
EOF

say "warming up (${WARMUP}s per server and size, 64 connections)"
for s in "${SIZES[@]}"; do
  for server in $servers $([ "$PROXY" = 1 ] && echo proxy); do
    case $server in
      keel) port=$KEEL_PORT ;; nginx) port=$NGINX_PORT ;; netty) port=$NETTY_PORT ;; proxy) port=$PROXY_PORT ;;
    esac
    run_wrk "$port" "$s" 64 "$WARMUP" >/dev/null
  done
done

echo "round,server,size,connections,requests,req_per_s,mb_per_s,cpu_us_per_req,noise_pct" > "$csv"
say "results -> $csv; $ROUNDS round(s) of ${DURATION}s per case"
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SIZES[@]}"; do
    for c in "${CONNS[@]}"; do
      case_servers=$servers
      # The proxy row: small and large answers, many connections (where its cost would show).
      if [ "$PROXY" = 1 ] && [ "$c" = 64 ] && { [ "$s" = 1k ] || [ "$s" = 1m ]; }; then case_servers="$case_servers proxy"; fi
      for server in $case_servers; do
        case $server in
          keel) port=$KEEL_PORT; pid=$keel_pid ;;
          nginx) port=$NGINX_PORT; pid=$nginx_pid ;;
          netty) port=$NETTY_PORT; pid=$netty_pid ;;
          proxy) port=$PROXY_PORT; pid=$proxy_pid ;;
        esac
        for attempt in $(seq 0 "$RETRIES"); do
          quiet_before_run
          s1=$(cpu_snapshot); all1=$(servers_ticks)
          before=$(cpu_ticks "$pid")
          run_wrk "$port" "$s" "$c" "$DURATION" > "$work/wrk.summary"
          read -r req rps bps rest < "$work/wrk.summary"
          after=$(cpu_ticks "$pid")
          s2=$(cpu_snapshot); all2=$(servers_ticks)
          noise=$(noise_pct "$s1" "$s2" $((all2 - all1 + $(cat "$work/wrk.ticks"))))
          # Large files: wrk counts only answers completed within the run (none, for 64 MiB on
          # 64 connections in 10 s), so requests are counted from bytes instead.
          case $s in
            1m) size_bytes=1048576 ;; 64m) size_bytes=67108864 ;; *) size_bytes=0 ;;
          esac
          if [ "$size_bytes" -gt 0 ]; then
            req=$(awk -v b="$bps" -v d="$DURATION" -v z="$size_bytes" 'BEGIN { printf "%.1f", b * d / z }')
            rps=$(awk -v b="$bps" -v z="$size_bytes" 'BEGIN { printf "%.1f", b / z }')
          fi
          cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v r="$req" 'BEGIN { printf "%.2f", (r > 0 ? t / hz * 1e6 / r : 0) }')
          mbps=$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')
          printf 'round %d  %-5s %4s x%-2d  %10s req/s  %9s MB/s  %8s us/req  noise %5s%% %s\n' \
            "$round" "$server" "$s" "$c" "$rps" "$mbps" "$cpu_us" "$noise" "${rest:-}" >&2
          if awk -v m="$NOISE_MAX_PCT" -v x="$noise" 'BEGIN { exit !(x <= m) }' || [ "$attempt" = "$RETRIES" ]; then
            break
          fi
          if [ "$retry_spent" -ge "$RETRY_BUDGET" ]; then
            say "other work took ${noise}% of the machine; retry budget (${RETRY_BUDGET}s) spent, keeping this run"
            break
          fi
          say "other work took ${noise}% of the machine; running again"
          retry_spent=$((retry_spent + DURATION))
        done
        echo "$round,$server,$s,$c,$req,$rps,$mbps,$cpu_us,$noise" >> "$csv"
      done
    done
  done
done
say "measured in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"

if [ "$QUICK" = 1 ]; then REPORT=${REPORT:-${csv%.csv}.md}; else REPORT=${REPORT:-BENCH-SERVE.md}; fi
report "$csv" "$REPORT"
