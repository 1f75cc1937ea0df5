#!/usr/bin/env bash
# keel serve over TLS beside nginx over TLS (make bench-tls). Both on SERVER_CPU with one loop /
# one worker, the same certificate (an EC P-256 key the script makes with openssl), TLS 1.2 and
# 1.3 allowed, each side's default ciphers (wrk's OpenSSL picks TLS_AES_256_GCM_SHA384 from both),
# nginx with sendfile on (its SSL_sendfile needs the kernel's tls module; without it, both sides
# encrypt in user space). wrk -t1 on LOAD_CPU over https:
#   - 1k x 64: 64 keep-alive connections fetching a 1 KiB file;
#   - 1m x 1: one keep-alive connection fetching a 1 MiB file;
#   - handshakes: 16 connections, "Connection: close" on every request, so every request is a
#     new TCP connection and a full handshake.
# Rounds are interleaved (keel, nginx, keel, ...); the report takes the median of rounds and the
# ratio keel/nginx, with each server's CPU per request (from /proc/PID/stat). Writes
# bench/results/tls-<stamp>.csv and the block between "<!-- tls -->" and "<!-- /tls -->" of
# REPORT (default BENCH-SERVE.md). Installs nginx and wrk when missing.
# Knobs: ROUNDS (3), DURATION (5 s), WARMUP (2 s), SERVER_CPU (0), LOAD_CPU (1), PORT_BASE
# (18440), QUIET_MAX_PCT (10), QUIET_WAIT (30), NO_BUILD=1, QUICK=1 (1 round of 2 s).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
. bench/bench-lib.sh

if [ "${QUICK:-0}" = 1 ]; then ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-2} WARMUP=${WARMUP:-1} QUIET_WAIT=${QUIET_WAIT:-0}; fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-2}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-18440}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-30}
REPORT=${REPORT:-BENCH-SERVE.md}
KEEL_PORT=$PORT_BASE
NGINX_PORT=$((PORT_BASE + 1))

bench_need nginx:nginx wrk:wrk taskset:util-linux curl:curl openssl:openssl || exit 1
[ "${NO_BUILD:-0}" = 1 ] || [ -x bin/keel ] || make -s build > /dev/null
[ -x bin/keel ] || { echo "tls-bench: bin/keel missing: make build" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/keel-tls-bench.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www" "$work/nginx/tmp" bench/results
head -c 1024 /dev/urandom > "$work/www/1k.bin"
head -c 1048576 /dev/urandom > "$work/www/1m.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  default_type application/octet-stream;
  client_body_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl reuseport;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    root $work/www;
  }
}
CONF
taskset -c "$SERVER_CPU" bin/keel serve --root "$work/www" --port "$KEEL_PORT" --loops 1 --cpus "$SERVER_CPU" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/keel.out" 2>&1 &
keel_pid=$!; pids+=("$keel_pid")
taskset -c "$SERVER_CPU" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" > "$work/nginx.out" 2>&1 &
nginx_pid=$!; pids+=("$nginx_pid")
for port in $KEEL_PORT $NGINX_PORT; do
  for _ in $(seq 1 300); do curl -sfk --max-time 2 -o /dev/null "https://127.0.0.1:$port/1k.bin" && break; sleep 0.1; done
  for f in 1k 1m; do
    curl -sfk --max-time 10 "https://127.0.0.1:$port/$f.bin" | cmp -s - "$work/www/$f.bin" \
      || { cat "$work/keel.out" "$work/nginx.out" >&2; echo "tls-bench: port $port did not send $f.bin intact" >&2; exit 1; }
  done
done
echo "tls-bench: $(head -n 1 "$work/keel.out")"

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# wrk over https -> "req/s"; $1 port, $2 file, $3 connections, $4 seconds, $5 extra header or "".
rate() {
  local hdr=()
  [ -z "$5" ] || hdr=(-H "$5")
  taskset -c "$LOAD_CPU" wrk -t1 -c"$3" -d"$4s" --timeout 30s "${hdr[@]}" "https://127.0.0.1:$1/$2.bin" \
    | awk '/^Requests\/sec:/ {print $2} /Socket errors|Non-2xx/ {print "tls-bench: " $0 > "/dev/stderr"}'
}
scenarios=("1k 64 -" "1m 1 -" "1k 16 Connection: close")
for s in "${scenarios[@]}"; do
  read -r file conns hdr <<< "$s"; [ "$hdr" = - ] && hdr=
  for port in $KEEL_PORT $NGINX_PORT; do rate "$port" "$file" "$conns" "$WARMUP" "$hdr" > /dev/null; done
done
stamp=$(date -u +%Y%m%dT%H%M%SZ)
csv=bench/results/tls-$stamp.csv
echo "round,server,scenario,req_per_s,cpu_us_per_req,busy_pct_before" > "$csv"
for round in $(seq 1 "$ROUNDS"); do
  for s in "${scenarios[@]}"; do
    read -r file conns hdr <<< "$s"; [ "$hdr" = - ] && hdr=
    name="$file x$conns"
    [ -z "$hdr" ] || name="$name new connection per request"
    for server in keel nginx; do
      if [ $server = keel ]; then port=$KEEL_PORT pid=$keel_pid; else port=$NGINX_PORT pid=$nginx_pid; fi
      bench_wait_quiet "$QUIET_MAX_PCT" "$QUIET_WAIT" > /dev/null
      busy=$(bench_busy_pct)
      t0=$(ticks "$pid")
      rps=$(rate "$port" "$file" "$conns" "$DURATION" "$hdr")
      t1=$(ticks "$pid")
      cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="$rps" -v d="$DURATION" 'BEGIN { printf "%.1f", (r > 0 ? t / hz * 1e6 / (r * d) : 0) }')
      echo "$round,$server,$name,$rps,$cpu,$busy" | tee -a "$csv"
    done
  done
done

table=$(python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| scenario | keel req/s | nginx req/s | keel / nginx | keel CPU µs/req | nginx CPU µs/req |")
print("|---|---:|---:|---:|---:|---:|")
for sc in dict.fromkeys(r["scenario"] for r in rows):
    med = lambda srv, k: statistics.median(float(r[k]) for r in rows if r["scenario"] == sc and r["server"] == srv)
    k, n = med("keel", "req_per_s"), med("nginx", "req_per_s")
    print(f"| {sc} | {k:.0f} | {n:.0f} | {k / n if n else 0:.2f}x | {med('keel', 'cpu_us_per_req'):.1f} | {med('nginx', 'cpu_us_per_req'):.1f} |")
PY
)
block=$(printf '%s\n\n%s\n\n%s\n' \
  "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`make bench-tls\` (bench/tls-bench.sh), keel $(git rev-parse --short HEAD 2>/dev/null || echo '?'), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'): both on CPU $SERVER_CPU (one loop / one worker), wrk -t1 on CPU $LOAD_CPU over https, the same EC P-256 certificate, $ROUNDS interleaved rounds of ${DURATION} s, medians. No kernel TLS here (no \`tls\` module): both encrypt in user space." \
  "$table" \
  "Raw rounds: \`$csv\` (busy_pct_before: the machine's other load just before each run).")
echo "$block"
if bench_replace_block "$REPORT" tls "$block"; then
  echo "tls-bench: wrote $REPORT"
fi
