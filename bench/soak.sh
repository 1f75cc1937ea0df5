#!/usr/bin/env bash
# The soak (`make soak`): keel serve and keel echo under mixed load, every byte checked.
#
#   bench/soak.sh                     (SOAK_TIME=600 by default: 10 minutes)
#
# Starts bin/keel serve on a fresh directory and bin/keel echo, both on 127.0.0.1 with ports
# the kernel picks, runs the Java driver dev.keel.bench.soak.Soak (which writes the site, then
# drives HTTP clients -- keep-alive GETs, ranges, HEADs, closes --, echo clients, and two slow
# clients whose unfinished heads must each get a 408 after the 2 s header timeout) for
# SOAK_TIME, and prints requests, errors, p50/p99/max latency, and each server's RSS,
# descriptors and threads at the start and the end. Descriptors are checked: keel echo's must
# be back where they were; keel serve's may grow only by descriptors of served files, at most
# the open-file cache's capacity (--open-files, 8 here: fewer than the site's 11 files, so
# entries are evicted and must be closed) and each file at most once; more is an error. Both servers are stopped and the directory
# removed on the way out, whatever happens. Exit status 1 when any byte or answer was wrong.
# Environment:
#   SOAK_TIME=N          seconds of load (default 600; a suffix m or s is accepted: 10m, 90s)
#   SOAK_HTTP_CLIENTS=N  HTTP client threads (default 8)
#   SOAK_ECHO_CLIENTS=N  echo client threads (default 4)
#   NO_BUILD=1           use bin/keel and the bench jar as they are
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

time=${SOAK_TIME:-600}
case "$time" in
  *m) seconds=$(( ${time%m} * 60 )) ;;
  *s) seconds=${time%s} ;;
  *) seconds=$time ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "soak: SOAK_TIME must be seconds (or Nm, Ns): $time" >&2; exit 2; }

jdk=$(scripts/find-jdk.sh) || exit 1
java=$jdk/bin/java
if [ "${NO_BUILD:-0}" != 1 ]; then
  make -s build >/dev/null
  JAVA_HOME=$jdk ./mvnw -q -B --no-transfer-progress -pl bench -am package -DskipTests
fi
bench_jar=$(ls -t bench/target/bench-*.jar 2>/dev/null | grep -v -e -sources -e -tests -e -javadoc | head -n 1 || true)
[ -n "$bench_jar" ] && [ -x bin/keel ] || { echo "soak: bin/keel or the bench jar is missing; run without NO_BUILD=1" >&2; exit 1; }

work=$(mktemp -d -t keel-soak.XXXXXX)
mkdir "$work/site"
serve_pid='' echo_pid=''
cleanup() {
  for pid in $serve_pid $echo_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $serve_pid $echo_pid; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints the port of the ready line in $1 (a log file) once it appears, or fails after 30 s.
ready_port() {
  for _ in $(seq 1 300); do
    port=$(sed -n -e 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' -e 's|.*listening on 127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$1" | head -n 1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  echo "soak: no ready line in $1:" >&2; cat "$1" >&2; return 1
}

open_files=8
bin/keel serve --root "$work/site" --port 0 --idle-timeout 30 --header-timeout 2 --loops 1 --open-files $open_files \
  >"$work/serve.log" 2>&1 &
serve_pid=$!
bin/keel echo --port 0 >"$work/echo.log" 2>&1 &
echo_pid=$!
serve_port=$(ready_port "$work/serve.log")
echo_port=$(ready_port "$work/echo.log")
echo "soak: $(head -n 1 "$work/serve.log")"
echo "soak: $(head -n 1 "$work/echo.log")"

status=0
"$java" --enable-native-access=ALL-UNNAMED -cp "$bench_jar:bench/target/lib/*" dev.keel.bench.soak.Soak \
  --serve-port "$serve_port" --serve-pid "$serve_pid" --echo-port "$echo_port" --echo-pid "$echo_pid" \
  --root "$work/site" --seconds "$seconds" \
  --http-clients "${SOAK_HTTP_CLIENTS:-8}" --echo-clients "${SOAK_ECHO_CLIENTS:-4}" --slow-clients 2 \
  --header-timeout 2 --open-files $open_files || status=$?
exit $status
