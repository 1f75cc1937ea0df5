#!/usr/bin/env bash
# The local-vs-remote NUMA matrix: for every node with CPUs (C) and every node with memory (M),
# runs NumaBench with the JVM pinned to C's CPUs (taskset) and its buffer bound to M (mbind).
# Needs `make build` first. Extra arguments go to NumaBench (e.g. --size 1024 --huge).
# On a one-node machine it prints the single local cell.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
java_home=$("$here/scripts/find-jdk.sh")
bench_jar=$(ls "$here"/bench/target/bench-*.jar 2>/dev/null | head -n 1 || true)
cli_jar=$(ls "$here"/cli/target/cli-*.jar 2>/dev/null | head -n 1 || true)
if [ -z "$bench_jar" ] || [ -z "$cli_jar" ]; then
  echo "numa-local-remote: not built; run 'make build' in $here" >&2
  exit 1
fi
command -v taskset >/dev/null || { echo "numa-local-remote: needs taskset (util-linux)" >&2; exit 1; }
sys=/sys/devices/system/node

expand() { # "0-2,8" -> 0 1 2 8
  local part
  for part in ${1//,/ }; do
    if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
  done
}

mem_nodes=$(expand "$(cat "$sys/has_memory" 2>/dev/null || echo 0)")
for c in $(expand "$(cat "$sys/online" 2>/dev/null || echo 0)"); do
  cpus=$(cat "$sys/node$c/cpulist" 2>/dev/null || true)
  [ -n "$cpus" ] || continue # a CPU-less (memory-only) node runs no thread
  for m in $mem_nodes; do
    echo "== threads on node $c (cpus $cpus), memory on node $m"
    taskset -c "$cpus" "$java_home/bin/java" --enable-native-access=ALL-UNNAMED \
      -cp "$bench_jar:$cli_jar:$here/cli/target/lib/*" dev.keel.bench.numa.NumaBench --mem-node "$m" "$@"
  done
done
