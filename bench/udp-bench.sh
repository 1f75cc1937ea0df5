#!/usr/bin/env bash
# The UDP echo benchmark of issue 18: keel udp-echo on epoll and on io_uring beside a C
# recvmmsg/sendmmsg echo (native/echo/c_udp_echo.c) and Netty 4.2's epoll DatagramChannel
# (bench NettyUdpEcho, recvmmsg on), 64-byte and 1,200-byte datagrams, datagrams per second and
# round-trip p50/p99 in one run. Every server is pinned to SERVER_CPU with one loop; the load is
# `keel load --udp` (FLOWS connected UDP endpoints, DEPTH datagrams in flight each, every byte
# of every echo checked, a datagram unanswered after 500 ms counted lost) pinned to LOAD_CPU.
# Rounds are interleaved (each server once per round, in turn); the report takes medians.
#
#   bench/udp-bench.sh             # full run (about ROUNDS x 4 servers x 2 sizes x DURATION);
#                                  # writes BENCH-UDP.md and bench/results/udp-<stamp>.jsonl
#   QUICK=1 bench/udp-bench.sh     # one round of 2 s per size; report under bench/results/
#   bench/udp-bench.sh --report bench/results/udp-STAMP.jsonl   # the report again
#
# Settings (environment): ROUNDS, DURATION (seconds per timed run), WARMUP (seconds of load
# before each server's first timed run), SIZES, FLOWS, DEPTH, BATCH (recvmmsg/sendmmsg batch
# of keel and the C echo), SERVERS (space-separated subset, in order), SERVER_CPU, LOAD_CPU,
# PORT_BASE, QUIET_MAX_PCT and QUIET_WAIT (before a timed run, wait up to QUIET_WAIT seconds for
# the machine to be less busy than that), JAVA_OPTS (JVM servers), REPORT, NO_BUILD=1.
#
# The target of issue 18: keel at least 1.0x the C echo, above Netty. Measure on a quiet machine:
# a shared one makes every number here noise.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-2} WARMUP=${WARMUP:-1} QUIET_WAIT=${QUIET_WAIT:-5}
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-2}
SIZES=${SIZES:-"64 1200"}
FLOWS=${FLOWS:-4}
DEPTH=${DEPTH:-16}
BATCH=${BATCH:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-$((30000 + RANDOM % 10000))}
QUIET_MAX_PCT=${QUIET_MAX_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-20}
JAVA_OPTS=${JAVA_OPTS:-}
SERVERS=${SERVERS:-"c-udp keel-udp-epoll keel-udp-io_uring netty-udp"}

say() { echo "udp-bench: $*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------- the report
report() { # results.jsonl report.md
  python3 - "$1" "$2" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
meta = next((r for r in rows if r.get("meta")), {})
runs = [r for r in rows if r.get("status") == "ok"]
failed = [r for r in rows if r.get("status") == "failed"]
servers = []
for r in runs + failed:
    if r["server"] not in servers:
        servers.append(r["server"])
sizes = sorted({r["size"] for r in runs})
def med(xs):
    return statistics.median(xs) if xs else None
out = ["# UDP echo benchmark", ""]
if meta:
    out.append("Run %s on %s (%s), JDK %s, Netty %s; servers on CPU %s, `keel load --udp` on CPU %s: "
               "%s flows x %s in flight, %s s per timed run, %s round(s), medians."
               % (meta.get("stamp"), meta.get("cpu"), meta.get("kernel"), meta.get("jdk"), meta.get("netty"),
                  meta.get("server_cpu"), meta.get("load_cpu"), meta.get("flows"), meta.get("depth"),
                  meta.get("duration"), meta.get("rounds")))
    out.append("")
for size in sizes:
    out.append("## %d-byte datagrams" % size)
    out.append("")
    out.append("| server | datagrams/s (round trips) | vs C | p50 us | p99 us | lost | runs |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    base = med([r["load"]["requests_per_second"] for r in runs if r["server"] == "c-udp" and r["size"] == size])
    for s in servers:
        mine = [r for r in runs if r["server"] == s and r["size"] == size]
        if not mine:
            out.append("| %s | failed | | | | | 0 |" % s)
            continue
        pps = med([r["load"]["requests_per_second"] for r in mine])
        p50 = med([r["load"]["latency_us"]["p50"] for r in mine])
        p99 = med([r["load"]["latency_us"]["p99"] for r in mine])
        lost = sum(r["load"].get("lost", 0) for r in mine)
        ratio = "%.2fx" % (pps / base) if base else ""
        out.append("| %s | %.0f | %s | %.1f | %.1f | %d | %d |" % (s, pps, ratio, p50, p99, lost, len(mine)))
    out.append("")
if failed:
    out.append("Failed runs: " + "; ".join("%s %sB: %s" % (r["server"], r.get("size"), r.get("error", "")) for r in failed))
    out.append("")
open(sys.argv[2], "w").write("\n".join(out))
print("\n".join(out))
PY
}

if [ "${1:-}" = --report ]; then
  [ -f "${2:-}" ] || die "usage: udp-bench.sh --report bench/results/udp-STAMP.jsonl"
  report "$2" "${REPORT:-${2%.jsonl}.md}"
  exit 0
fi

# ---------------------------------------------------------------- build and tools
java_home=$(scripts/find-jdk.sh) || exit 1
java="$java_home/bin/java"
command -v taskset >/dev/null || die "needs taskset (util-linux)"
command -v python3 >/dev/null || die "needs python3 (the report)"
if [ "${NO_BUILD:-0}" != 1 ]; then
  say "building (native, bin/keel, bench jar and its classpath)"
  make -s -C native JAVA_HOME="$java_home" >/dev/null
  make -s build >/dev/null
  JAVA_HOME=$java_home ./mvnw -q -B --no-transfer-progress -pl bench -am package -DskipTests
fi
bench_jar=$(ls -t bench/target/bench-*.jar 2>/dev/null | grep -v -e -sources -e -tests -e -javadoc | head -n 1 || true)
[ -n "$bench_jar" ] && [ -x native/build/c_udp_echo ] && [ -x bin/keel ] \
  || die "not built: bench jar, native/build/c_udp_echo or bin/keel missing (run without NO_BUILD=1)"
bench_cp="$bench_jar:bench/target/lib/*"
. bench/bench-lib.sh

stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p bench/results
suffix=$([ "$QUICK" = 1 ] && echo -quick || true)
results="bench/results/udp-$stamp$suffix.jsonl"
if [ "$QUICK" = 1 ]; then REPORT=${REPORT:-bench/results/udp-$stamp-quick.md}; else REPORT=${REPORT:-BENCH-UDP.md}; fi
: > "$results"
tmp=$(mktemp -d)
spid=
cleanup() {
  if [ -n "$spid" ]; then
    kill -TERM "$spid" 2>/dev/null || true
    sleep 0.5
    kill -KILL "$spid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netty=$(ls bench/target/lib/netty-transport-[0-9]*.jar 2>/dev/null | sed 's/.*netty-transport-\(.*\)\.jar/\1/' | head -n 1)
jdk=$(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$java_home/release")
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
printf '{"meta":true,"stamp":"%s","kernel":"%s","cpu":"%s","jdk":"%s","netty":"%s","server_cpu":%s,"load_cpu":%s,"flows":%s,"depth":%s,"duration":%s,"rounds":%s,"batch":%s}\n' \
  "$stamp" "$(uname -r)" "$cpu" "$jdk" "$netty" "$SERVER_CPU" "$LOAD_CPU" "$FLOWS" "$DEPTH" "$DURATION" "$ROUNDS" \
  "$BATCH" >> "$results"

read -ra java_opts <<<"$JAVA_OPTS"
server_cmd() { # name port -> sets cmd
  case "$1" in
    c-udp) cmd=(native/build/c_udp_echo "$2" "$BATCH") ;;
    keel-udp-epoll) cmd=(bin/keel udp-echo --port "$2" --cpus "$SERVER_CPU" --batch "$BATCH") ;;
    keel-udp-io_uring) cmd=(bin/keel udp-echo --port "$2" --cpus "$SERVER_CPU" --batch "$BATCH" --transport io_uring) ;;
    netty-udp) cmd=("$java" --enable-native-access=ALL-UNNAMED "${java_opts[@]}" -cp "$bench_cp"
                    dev.keel.bench.echo.NettyUdpEcho "$2") ;;
    *) return 1 ;;
  esac
}
for server in $SERVERS; do server_cmd "$server" 0 || die "unknown server '$server' in SERVERS"; done

port=$PORT_BASE
start_server() { # name -> sets spid and port; 1 when it did not come up
  port=$((port + 1))
  server_cmd "$1" "$port"
  bench_start_server "$SERVER_CPU" "$tmp/server" "${cmd[@]}"
}

load() { # size seconds -> keel load's JSON on stdout, on one line
  KEEL_JAVA_OPTS="$JAVA_OPTS" bin/keel load --udp --port "$port" --connections "$FLOWS" --depth "$DEPTH" \
    --size "$1" --duration "${2}s" --cpus "$LOAD_CPU" --json \
    | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":")))'
}

started=$SECONDS
for round in $(seq "$ROUNDS"); do
  for server in $SERVERS; do
    say "round $round: $server"
    if ! start_server "$server"; then
      printf '{"server":"%s","round":%s,"status":"failed","error":"did not start: %s"}\n' "$server" "$round" \
        "$(tail -n 1 "$tmp/server.err" | tr '"\\' "''")" >> "$results"
      bench_stop_server
      continue
    fi
    [ "$round" = 1 ] && { load 64 "$WARMUP" >/dev/null 2>&1 || true; }
    for size in $SIZES; do
      bench_wait_quiet "$QUIET_MAX_PCT" "$QUIET_WAIT" >/dev/null
      if line=$(load "$size" "$DURATION" 2>"$tmp/load.err") && [ -n "$line" ]; then
        printf '{"server":"%s","size":%s,"round":%s,"status":"ok","t_s":%s,"load":%s}\n' "$server" "$size" \
          "$round" "$((SECONDS - started))" "$line" >> "$results"
      else
        printf '{"server":"%s","size":%s,"round":%s,"status":"failed","error":"%s"}\n' "$server" "$size" "$round" \
          "$(tail -n 1 "$tmp/load.err" | tr '"\\' "''")" >> "$results"
        say "  $size B: FAILED: $(tail -n 1 "$tmp/load.err")"
      fi
    done
    bench_stop_server
  done
done

say "results: $results"
report "$results" "$REPORT" >/dev/null
say "report: $REPORT"
