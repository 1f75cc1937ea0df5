# Shell functions the bench scripts share; sourced, not run:  . "$here/bench/bench-lib.sh"
# Every tool a benchmark needs comes from Debian's packages, installed here when missing, so
# a fresh machine runs the scripts as they are.

# bench_need CMD:PACKAGE...  installs (apt-get, as root) the packages whose command is missing.
# Returns 1 when something is still missing afterwards.
bench_need() {
  local missing=() spec
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec##*:}")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "bench: missing ${missing[*]} (install them; apt-get needs root)" >&2
    return 1
  fi
  echo "bench: installing ${missing[*]} (Debian)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 || true
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null 2>&1 || { echo "bench: could not install ${spec##*:}" >&2; return 1; }
  done
}

# bench_need_gnuplot: gnuplot for the plots (gnuplot-nox: no X libraries). A missing gnuplot
# costs the plot, not the run, so this only warns.
bench_need_gnuplot() {
  bench_need gnuplot:gnuplot-nox || echo "bench: no gnuplot; the report will have no plot" >&2
}

# bench_busy_pct: busy share (0-100) of all CPUs over 0.3 s (everything but idle and iowait).
# Between timed runs the benchmark's own processes sleep, so this is other work.
bench_busy_pct() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  sleep 0.3
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; all = busy + y[2] - x[2];
    printf "%d\n", (all > 0 ? 100 * busy / all : 0)}'
}

# bench_wait_quiet MAX_PCT MAX_SECONDS: waits until the machine is at most MAX_PCT busy, or
# MAX_SECONDS have passed; prints the seconds waited.
bench_wait_quiet() {
  local waited=0
  while [ "$waited" -lt "$2" ] && [ "$(bench_busy_pct)" -gt "$1" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  echo "$waited"
}

# bench_replace_block FILE NAME TEXT: replaces what FILE holds between the lines
# "<!-- NAME -->" and "<!-- /NAME -->" by TEXT; returns 1 (and changes nothing) when FILE has
# no such block.
bench_replace_block() {
  [ -f "$1" ] && grep -q "<!-- $2 -->" "$1" || return 1
  python3 - "$1" "$2" "$3" <<'PY'
import sys
path, name, block = sys.argv[1:4]
text = open(path).read()
head, rest = text.split(f'<!-- {name} -->', 1)
_, tail = rest.split(f'<!-- /{name} -->', 1)
open(path, 'w').write(f'{head}<!-- {name} -->\n{block}\n<!-- /{name} -->{tail}')
PY
}

# bench_start_server CPU PREFIX COMMAND...: starts COMMAND pinned to CPU (KEEL_JAVA_OPTS from
# JAVA_OPTS), its output in PREFIX.out and PREFIX.err, and sets spid; returns 1 when it did not
# print its ready line within 30 s, or died first. Stop it with bench_stop_server.
bench_start_server() {
  local cpu=$1 prefix=$2 i
  shift 2
  KEEL_JAVA_OPTS="${JAVA_OPTS:-}" taskset -c "$cpu" "$@" >"$prefix.out" 2>"$prefix.err" &
  spid=$!
  for i in $(seq 300); do
    [ -s "$prefix.out" ] && return 0
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

# bench_stop_server: stops the server bench_start_server started (SIGTERM, then SIGKILL after
# 5 s), waits for it and clears spid; nothing when none runs.
bench_stop_server() {
  [ -n "${spid:-}" ] || return 0
  kill -TERM "$spid" 2>/dev/null || true
  local i
  for i in $(seq 50); do
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=
}
