#!/usr/bin/env bash
# Builds the two machines `keel tune` is tested on, from a recording of a real one
# (scripts/record-machine.sh; the committed one is of a 2-CPU virtual machine):
#   metal-untuned: as that machine would show on bare metal left at distribution defaults:
#                  cpufreq (powersave), intel_idle C-states (C1E and C6 enabled), two NUMA
#                  nodes with balancing on, irqbalance running, THP always, swappiness 60, no busy
#                  polling, 128/512 listen backlogs, small TCP buffers, hpet, RLIMIT_NOFILE 1024;
#   metal-tuned:   the same machine after the changes keel tune asks for, CPU 1 isolated.
# Each is written to DEST/NAME and packed to DEST/NAME.tar.gz (ustar, as the tests unpack it).
#
#   scripts/tune-fixtures.sh RECORDING DEST
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 RECORDING DEST" >&2; exit 2; }
rec=$(cd "$1" && pwd); dest=$2
mkdir -p "$dest"; dest=$(cd "$dest" && pwd)

put() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" > "$1"; }

build() { # NAME TUNED(0|1)
  local m=$dest/$1 t=$2 c
  rm -rf "$m"; cp -a "$rec" "$m"; cd "$m"
  c=sys/devices/system/cpu
  # Two nodes, CPU n on node n.
  put sys/devices/system/node/online 0-1; put sys/devices/system/node/possible 0-1
  put sys/devices/system/node/has_memory 0-1; put sys/devices/system/node/has_cpu 0-1
  for n in 0 1; do
    put sys/devices/system/node/node$n/cpulist $n
    put sys/devices/system/node/node$n/cpumap "0000000$((1 << n))"
    put sys/devices/system/node/node$n/distance "$([ $n = 0 ] && echo '10 21' || echo '21 10')"
    put sys/devices/system/node/node$n/meminfo "Node $n MemTotal:       16384000 kB"
    rm -f $c/cpu$n/node*; ln -s ../../node/node$n $c/cpu$n/node$n
  done
  # cpufreq policies and the intel_pstate turbo switch.
  for n in 0 1; do
    put $c/cpufreq/policy$n/scaling_available_governors "performance powersave"
    put $c/cpufreq/policy$n/scaling_governor "$([ $t = 1 ] && echo performance || echo powersave)"
    put $c/cpufreq/policy$n/base_frequency 2100000
    rm -rf $c/cpu$n/cpufreq; ln -s ../cpufreq/policy$n $c/cpu$n/cpufreq
  done
  put $c/intel_pstate/no_turbo 0
  # intel_idle C-states: POLL, C1 (2 us), C1E (10 us), C6 (133 us).
  put $c/cpuidle/current_driver intel_idle
  for n in 0 1; do
    s=0
    for state in POLL:0 C1:2 C1E:10 C6:133; do
      put $c/cpu$n/cpuidle/state$s/name "${state%%:*}"
      put $c/cpu$n/cpuidle/state$s/latency "${state##*:}"
      put $c/cpu$n/cpuidle/state$s/disable "$([ $t = 1 ] && [ "${state##*:}" -gt 3 ] && echo 1 || echo 0)"
      s=$((s + 1))
    done
  done
  if [ $t = 1 ]; then
    put proc/cmdline "isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1 intel_idle.max_cstate=1 tsc=reliable"
    put $c/isolated 1; put $c/nohz_full 1
    put sys/kernel/mm/transparent_hugepage/enabled "always [madvise] never"
    put sys/kernel/mm/transparent_hugepage/defrag "always defer defer+madvise [madvise] never"
    put proc/sys/vm/swappiness 10; put proc/sys/kernel/numa_balancing 0
    put proc/sys/net/core/busy_read 50; put proc/sys/net/core/busy_poll 50
    put proc/sys/net/core/somaxconn 4096; put proc/sys/net/ipv4/tcp_max_syn_backlog 4096
    put proc/sys/net/ipv4/tcp_rmem "4096	131072	16777216"; put proc/sys/net/ipv4/tcp_wmem "4096	16384	16777216"
    put proc/sys/net/core/netdev_max_backlog 10000
    put sys/devices/system/clocksource/clocksource0/available_clocksource "tsc hpet acpi_pm"
    put sys/devices/system/clocksource/clocksource0/current_clocksource tsc
    put proc/sys/kernel/io_uring_disabled 0
    sed -i 's/^Max open files .*/Max open files            1048576              1048576              files/' proc/self/limits
  else
    put proc/cmdline ""
    put $c/isolated ""; put $c/nohz_full "(null)"
    put proc/812/comm irqbalance
    put sys/kernel/mm/transparent_hugepage/enabled "[always] madvise never"
    put sys/kernel/mm/transparent_hugepage/defrag "[always] defer defer+madvise madvise never"
    put proc/sys/vm/swappiness 60; put proc/sys/kernel/numa_balancing 1
    put proc/sys/net/core/busy_read 0; put proc/sys/net/core/busy_poll 0
    put proc/sys/net/core/somaxconn 128; put proc/sys/net/ipv4/tcp_max_syn_backlog 512
    put proc/sys/net/ipv4/tcp_rmem "4096	87380	6291456"; put proc/sys/net/ipv4/tcp_wmem "4096	16384	4194304"
    put proc/sys/net/core/netdev_max_backlog 1000
    put sys/devices/system/clocksource/clocksource0/available_clocksource "tsc hpet acpi_pm"
    put sys/devices/system/clocksource/clocksource0/current_clocksource hpet
    put proc/sys/kernel/io_uring_disabled 2
    sed -i 's/^Max open files .*/Max open files            1024                 524288               files/' proc/self/limits
  fi
  cd "$dest"
  "$here/pack-tree.sh" "$m" "$dest/$1.tar.gz"
}

build metal-untuned 0
build metal-tuned 1
