#!/usr/bin/env bash
# keel serve beside nginx on static files: 1 KiB, 16 KiB, 1 MiB, 64 MiB; 1 and 64 connections.
#
#   bench/serve-bench.sh            (make build first; ROUNDS=3 DURATION=10 by default)
#
# Both servers keep their default of 1000 requests per connection (nginx keepalive_requests).
# Server on CPU 0, wrk on CPU 1 (taskset); one worker/loop each; rounds interleaved (every
# round runs every server on every case) so drift of the machine hits both alike. Other work
# on the machine is measured during each run (busy time of all CPUs from /proc/stat, minus
# the servers' and wrk's own): a run where it took more than NOISE_MAX_PCT of the machine is
# repeated, after waiting for quiet, up to RETRIES times; the noise of the run kept is in the CSV. Reports the
# median over rounds of requests/s, MB/s and server CPU time per request (utime+stime of the
# server process from /proc, over the run, divided by the requests wrk completed).
# nginx: Debian's package, one process (master_process off) pinned by taskset like keel,
# sendfile on, tcp_nopush on, access_log off, an open_file_cache like keel's. Installs nginx and wrk with apt-get when they are missing.
# Writes bench/results/serve-<date>.csv and BENCH-SERVE.md (table; the analysis is kept).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
KEEL_PORT=${KEEL_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
PROXY_PORT=${PROXY_PORT:-18082}
PROXY=${PROXY:-1}
NOISE_MAX_PCT=${NOISE_MAX_PCT:-5}
RETRIES=${RETRIES:-3}
QUIET_WAIT=${QUIET_WAIT:-30}
SIZES=(1k 16k 1m 64m)
CONNS=(1 64)

need() {
  local missing=()
  for pkg in "$@"; do
    command -v "${pkg%%:*}" >/dev/null 2>&1 || missing+=("${pkg##*:}")
  done
  if ((${#missing[@]})); then
    echo "serve-bench: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
need nginx:nginx wrk:wrk taskset:util-linux

[ -x bin/keel ] || { echo "serve-bench: bin/keel is missing; run 'make build' first" >&2; exit 1; }
nginx_bin=$(command -v nginx)

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
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "serve-bench: nothing listens on $1" >&2
  exit 1
}

taskset -c "$SERVER_CPU" bin/keel serve --root "$work/www" --port "$KEEL_PORT" --loops 1 --cpus "$SERVER_CPU" \
  > "$work/keel.out" 2>&1 &
keel_pid=$!
pids+=("$keel_pid")
taskset -c "$SERVER_CPU" "$nginx_bin" -p "$here/$work/nginx" -c "$here/$work/nginx/nginx.conf" > "$work/nginx.out" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$KEEL_PORT"
wait_port "$NGINX_PORT"
echo "serve-bench: keel pid $keel_pid, nginx pid $nginx_pid" >&2
# bin/keel execs java, so its pid is the JVM's.
if [ "$PROXY" = 1 ]; then
  # keel proxy in front of nginx, on the server's CPU too: the proxy row compares wrk -> proxy
  # -> nginx with wrk -> nginx, both sharing CPU SERVER_CPU.
  taskset -c "$SERVER_CPU" bin/keel proxy --port "$PROXY_PORT" --to "127.0.0.1:$NGINX_PORT" > "$work/proxy.out" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_port "$PROXY_PORT"
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || { echo "serve-bench: process $1 is gone" >&2; echo 0; }; }
hz=$(getconf CLK_TCK)
ncpu=$(nproc)

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
wait_for_quiet() {
  local waited=0 s1 s2 t1 t2 ours
  while [ "$waited" -lt "$QUIET_WAIT" ]; do
    s1=$(cpu_snapshot); t1=$(servers_ticks); sleep 2; s2=$(cpu_snapshot); t2=$(servers_ticks)
    waited=$((waited + 2))
    if awk -v m="$NOISE_MAX_PCT" -v x="$(noise_pct "$s1" "$s2" $((t2 - t1)))" 'BEGIN { exit !(x <= m) }'; then
      return 0
    fi
  done
  return 0
}
# CPU ticks of every server process of this benchmark (idle ones use next to nothing).
servers_ticks() {
  local t=0 p
  for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(cpu_ticks "$p")))
  done
  echo "$t"
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

echo "serve-bench: warming up (${WARMUP}s per case)" >&2
for s in "${SIZES[@]}"; do
  run_wrk "$KEEL_PORT" "$s" 64 "$WARMUP" >/dev/null
  run_wrk "$NGINX_PORT" "$s" 64 "$WARMUP" >/dev/null
  if [ "$PROXY" = 1 ]; then run_wrk "$PROXY_PORT" "$s" 64 "$WARMUP" >/dev/null; fi
done

csv=bench/results/serve-$(date -u +%Y%m%dT%H%M%SZ).csv
echo "round,server,size,connections,requests,req_per_s,mb_per_s,cpu_us_per_req,noise_pct" > "$csv"
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SIZES[@]}"; do
    for c in "${CONNS[@]}"; do
      servers="keel nginx"
      # The proxy row: small and large answers, many connections (where its cost would show).
      if [ "$PROXY" = 1 ] && [ "$c" = 64 ] && { [ "$s" = 1k ] || [ "$s" = 1m ]; }; then servers="$servers proxy"; fi
      for server in $servers; do
        case $server in
          keel) port=$KEEL_PORT; pid=$keel_pid ;;
          nginx) port=$NGINX_PORT; pid=$nginx_pid ;;
          proxy) port=$PROXY_PORT; pid=$proxy_pid ;;
        esac
        for attempt in $(seq 0 "$RETRIES"); do
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
          echo "serve-bench: other work took ${noise}% of the machine; waiting for quiet and running again" >&2
          wait_for_quiet
        done
        echo "$round,$server,$s,$c,$req,$rps,$mbps,$cpu_us,$noise" >> "$csv"
      done
    done
  done
done

# Medians over rounds, one row per case, keel beside nginx.
table=$(awk -F, 'NR > 1 { k = $3 "," $4 "," $2; rps[k] = rps[k] " " $6; mb[k] = mb[k] " " $7; cpu[k] = cpu[k] " " $8 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split("1k 16k 1m 64m", sizes, " "); split("1 64", conns, " ")
    for (i = 1; i <= 4; i++) for (j = 1; j <= 2; j++) {
      kk = sizes[i] "," conns[j] ",keel"; kn = sizes[i] "," conns[j] ",nginx"
      rk = median(rps[kk]); rn = median(rps[kn])
      printf "| %s | %s | %.0f | %.0f | **%.2f** | %.1f | %.1f | %.1f | %.1f |\n", sizes[i], conns[j], rk, rn,
        (rn > 0 ? rk / rn : 0), median(mb[kk]), median(mb[kn]), median(cpu[kk]), median(cpu[kn])
    }
  }' "$csv")

proxy_table=$(awk -F, 'NR > 1 { k = $3 "," $4 "," $2; rps[k] = rps[k] " " $6; mb[k] = mb[k] " " $7; cpu[k] = cpu[k] " " $8 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split("1k 1m", sizes, " ")
    for (i = 1; i <= 2; i++) {
      kp = sizes[i] ",64,proxy"; kn = sizes[i] ",64,nginx"
      if (!(kp in rps)) continue
      rp = median(rps[kp]); rn = median(rps[kn])
      printf "| %s | 64 | %.0f | %.0f | **%.2f** | %.1f | %.1f |\n", sizes[i], rp, rn, (rn > 0 ? rp / rn : 0), median(mb[kp]), median(cpu[kp])
    }
  }' "$csv")

cpu_model=$(awk -F: '/model name/ { sub(/^ /, "", $2); print $2; exit }' /proc/cpuinfo)
{
  echo "# keel serve beside nginx"
  echo
  echo "Measured $(date -u +%Y-%m-%d) by \`bench/serve-bench.sh\` on $cpu_model ($(nproc) CPUs), Linux $(uname -r),"
  echo "$("$here"/scripts/find-jdk.sh 2>/dev/null | xargs -I{} sh -c '{}/bin/java -version 2>&1 | head -1'), nginx $($nginx_bin -v 2>&1 | sed 's/.*nginx\///')."
  echo "Server pinned to CPU $SERVER_CPU (one loop / one worker), wrk -t1 on CPU $CLIENT_CPU, keep-alive, $ROUNDS interleaved"
  echo "rounds of ${DURATION}s per case after a ${WARMUP}s warm-up; medians. A run during which other processes used"
  echo "more than ${NOISE_MAX_PCT}% of the machine was repeated (up to $RETRIES times); median noise of the runs kept:"
  echo "$(awk -F, 'NR > 1 { print $9 }' "$csv" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')%. Raw numbers: \`$csv\`."
  echo
  echo "| file | conns | keel req/s | nginx req/s | keel/nginx | keel MB/s | nginx MB/s | keel CPU µs/req | nginx CPU µs/req |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "$table"
  echo
  if [ "$PROXY" = 1 ]; then
    echo "### keel proxy in front of nginx"
    echo
    echo "wrk -> \`keel proxy\` (splice, one loop) -> nginx, against wrk -> nginx; proxy and nginx share CPU $SERVER_CPU."
    echo "CPU µs/req is the proxy's own."
    echo
    echo "| file | conns | via proxy req/s | direct req/s | proxy/direct | via proxy MB/s | proxy CPU µs/req |"
    echo "|---|---|---|---|---|---|---|"
    echo "$proxy_table"
    echo
  fi
  if [ -f BENCH-SERVE.md ] && grep -q '^## Analysis' BENCH-SERVE.md; then
    sed -n '/^## Analysis/,$p' BENCH-SERVE.md
  else
    echo "## Analysis"
    echo
    echo "(to be written from the numbers above)"
  fi
} > BENCH-SERVE.md.new
mv BENCH-SERVE.md.new BENCH-SERVE.md
echo "serve-bench: wrote BENCH-SERVE.md and $csv" >&2
