#!/usr/bin/env bash
# Runs keel's JMH benchmarks and writes JMH JSON plus a Markdown table under bench/results/.
#
#   bench/run.sh [SUITE...] [-- JMH options...]      (`make bench` runs it with no argument)
#
# Suites: downcall (default): DowncallBench, FFM vs JNI vs JNA on getpid, sched_getcpu, write.
#         pin: PinBench, keel vs OpenHFT affinity on getcpu and pin + read back.
#         all: every JMH benchmark in the module.
#         Any other word is a JMH include regex, e.g. bench/run.sh 'DowncallBench.getcpu'.
# Environment:
#   KEEL_BENCH_ROUNDS=N  how many times the whole selection is run (default 3; 1 when quick).
#                        The table gives the median of the rounds: on this small shared machine a
#                        disturbance spoils a round, not the result.
#   KEEL_BENCH_QUICK=1   a smoke run (1 round, 1 warm-up x 1 s, 2 measurements x 1 s) instead of
#                        the default 3 warm-up x 1 s, 5 measurements x 1 s, 1 fork per round
#   KEEL_BENCH_SETTINGS="-wi 5 -w 2s -i 10 -r 2s -f 2"   JMH iteration settings replacing
#                        either of the above (JMH refuses an option given twice, so change them
#                        here, not after --)
#   KEEL_BENCH_CPU=N     the CPU the JMH fork is pinned to with taskset (default 1; "none" to
#                        leave it unpinned). The fork's JIT and GC threads share that CPU; the
#                        harness JVM, which only collects results, is not pinned.
#   KEEL_BENCH_NICE=N    the niceness of the fork (default -20 so other work on the machine
#                        cannot time-slice with it; "none" to leave it as is)
#   KEEL_BENCH_SKIP_BUILD=1  use the benchmarks.jar and JNI library already built
# Always on: -prof gc, whose bytes per operation show whether a variant allocates per call.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

jdk=$(scripts/find-jdk.sh) || exit 1
export JAVA_HOME=$jdk
java=$jdk/bin/java

suites=() jmh_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; jmh_extra=("$@"); break ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) suites+=("$1"); shift ;;
  esac
done
[ ${#suites[@]} -gt 0 ] || suites=(downcall)

includes=()
for s in "${suites[@]}"; do
  case "$s" in
    downcall) includes+=('dev\.keel\.bench\.DowncallBench\.') ;;
    pin) includes+=('dev\.keel\.bench\.affinity\.PinBench\.') ;;
    all) includes+=('dev\.keel\.bench\.') ;;
    -*) echo "bench: '$s' is not a suite; JMH options go after --" >&2; exit 2 ;;
    *) includes+=("$s") ;; # any other word is a JMH include regex, e.g. 'DowncallBench.getcpu'
  esac
done

jar=bench/target/benchmarks.jar
jnilib=native/build/libkeeljnibench.so
if [ "${KEEL_BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "bench: building the JNI library and $jar with JDK $jdk"
  make -s -C native JAVA_HOME="$jdk" build/libkeeljnibench.so
  ./mvnw -q -B --no-transfer-progress -pl bench -am -Pbenchmarks-jar -DskipTests package
fi
for f in "$jar" "$jnilib"; do
  [ -f "$f" ] || { echo "bench: $f is missing; run without KEEL_BENCH_SKIP_BUILD" >&2; exit 1; }
done

rounds=${KEEL_BENCH_ROUNDS:-3}
[ "${KEEL_BENCH_QUICK:-0}" = 1 ] && rounds=${KEEL_BENCH_ROUNDS:-1}
case "$rounds" in ''|*[!0-9]*|0) echo "bench: KEEL_BENCH_ROUNDS must be a positive number" >&2; exit 2 ;; esac
if [ -n "${KEEL_BENCH_SETTINGS:-}" ]; then
  read -r -a settings <<< "$KEEL_BENCH_SETTINGS"
elif [ "${KEEL_BENCH_QUICK:-0}" = 1 ]; then
  settings=(-wi 1 -w 1s -i 2 -r 1s -f 1)
else
  settings=(-wi 3 -w 1s -i 5 -r 1s -f 1)
fi

# Pin (and raise the priority of) only the forked JVM that measures: JMH starts it through
# -jvm, so point -jvm at a wrapper that execs java under taskset and nice. Its JIT and GC
# threads share that CPU. The raised priority matters on a small shared machine: without it
# every other runnable task time-slices with the benchmark and inflates ns/op.
mkdir -p bench/results/tmp
prefix=() pinned="unpinned"
cpu=${KEEL_BENCH_CPU:-1}
if [ "$cpu" != none ]; then
  if ! command -v taskset >/dev/null; then
    echo "bench: taskset not found (util-linux); the fork runs unpinned" >&2
  elif ! taskset -c "$cpu" true 2>/dev/null; then
    echo "bench: cannot pin to CPU $cpu here; the fork runs unpinned" >&2
  else
    prefix+=(taskset -c "$cpu")
    pinned="pinned to CPU $cpu"
  fi
fi
niceness=${KEEL_BENCH_NICE:--20}
if [ "$niceness" != none ]; then
  if [ "$(nice -n "$niceness" nice 2>/dev/null)" = "$niceness" ]; then
    prefix=(nice -n "$niceness" "${prefix[@]}")
    pinned="$pinned, nice $niceness"
  else
    echo "bench: cannot run at nice $niceness (needs root or CAP_SYS_NICE); normal priority" >&2
  fi
fi
jvm=()
if [ ${#prefix[@]} -gt 0 ]; then
  wrapper=bench/results/tmp/java-wrapper
  { echo '#!/bin/sh'; printf 'exec'; printf ' %q' "${prefix[@]}" "$java"; echo ' "$@"'; } > "$wrapper"
  chmod +x "$wrapper"
  jvm=(-jvm "$root/$wrapper")
fi

stamp=$(date -u +%Y%m%d-%H%M%S)
name=$(IFS=-; echo "${suites[*]}" | tr -c 'A-Za-z0-9_.\n-' '_')
json=bench/results/$name-$stamp.json
md=bench/results/$name-$stamp.md

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: suites ${suites[*]}, $rounds round(s), fork $pinned, settings ${settings[*]}"
# -Dkeel.jnibench.lib reaches the fork through -jvmArgsAppend (JniCalls loads it with System.load).
"$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.keel.bench.BenchRunner "$md.table" "$rounds" \
  "${includes[@]}" "${settings[@]}" "${jvm[@]}" \
  -jvmArgsAppend "-Dkeel.jnibench.lib=$root/$jnilib" \
  -prof gc -rf json -rff "$json" "${jmh_extra[@]}"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
# The JSON names the JVM wrapper and the JNI library by absolute path; keep it repo-relative so
# results can be committed without machine paths.
for f in "$json" "${json%.json}"-r*.json; do
  if [ -f "$f" ]; then sed -i "s|$root/|./|g" "$f"; fi
done
model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -n 1)
{
  echo "# keel benchmarks: ${suites[*]} ($stamp UTC)"
  echo
  echo "- Machine: $model, $(nproc) CPUs online${hypervisor:+, virtual machine ($hypervisor)}"
  echo "- Kernel: $(uname -srm)"
  echo "- JDK: $("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.vm.vendor = //p') $("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')"
  echo "- JMH: $rounds round(s) of ${settings[*]} -prof gc, fork $pinned"
  echo "- Load average (1/5/15 min) before: $load_before, after: $load_after" \
       "(other work on this machine during the run adds noise)"
  if [ "$rounds" = 1 ]; then echo "- JSON: $json"; else echo "- JSON: ${json%.json}-r{1..$rounds}.json"; fi
  echo
  cat "$md.table"
} > "$md"
rm -f "$md.table"
echo "bench: results in $md (JSON beside it)"
cat "$md"
