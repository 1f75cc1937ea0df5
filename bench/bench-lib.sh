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
