#!/usr/bin/env bash
# Records the /sys and /proc files that `keel cpus`, `keel cpus --nic IFACE` and `keel tune`
# read on this machine into DEST, keeping the kernel's paths and symbolic links, so the
# commands can be run on the copy later (`--root DEST`) and tests can hold them to it.
# Nothing is changed on the machine. Files that may name the host or its other software keep
# only what keel reads: the cgroup lines of /proc/self/{cgroup,mountinfo}, the Cpus_/Mems_allowed
# lines of /proc/self/status, the CPU-isolation, idle and clock parameters of /proc/cmdline.
#
#   scripts/record-machine.sh DEST [IFACE...]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DEST [IFACE...]" >&2; exit 2; }
dest=$1; shift
mkdir -p "$dest"

copy() { # copies each existing path (file or link) with its parents; links are kept as links
  for p in "$@"; do
    [ -e "$p" ] || [ -L "$p" ] || continue
    cp -P --parents "$p" "$dest" 2>/dev/null || true
  done
}

# CPU and node topology, caches, hybrid hints (the files TopologyReader and NumaTopology read).
c=/sys/devices/system/cpu
copy $c/possible $c/present $c/online $c/isolated $c/nohz_full
for cpu in $c/cpu[0-9]*; do
  copy "$cpu"/online "$cpu"/cpu_capacity "$cpu"/node[0-9]* "$cpu"/regs/identification/midr_el1
  copy "$cpu"/topology/{physical_package_id,die_id,core_id,core_cpus_list,core_cpus,thread_siblings_list,thread_siblings}
  for i in "$cpu"/cache/index[0-9]*; do copy "$i"/{level,type,size,shared_cpu_list,shared_cpu_map,id}; done
  # keel tune: C-states of each CPU.
  for s in "$cpu"/cpuidle/state[0-9]*; do copy "$s"/{name,latency,disable}; done
done
n=/sys/devices/system/node
copy $n/online $n/possible $n/has_memory $n/has_cpu
for node in $n/node[0-9]*; do copy "$node"/{cpulist,cpumap,meminfo,distance}; done
copy /sys/devices/cpu_core/cpus /sys/devices/cpu_atom/cpus /proc/meminfo
copy /proc/self/status /proc/self/cgroup /proc/self/mountinfo /proc/self/cpuset /proc/self/limits

# keel tune: frequency, turbo, idle driver, THP, clocksource, boot command line, sysctls.
copy $c/cpufreq/policy[0-9]*/{scaling_governor,scaling_available_governors,base_frequency}
for cpu in $c/cpu[0-9]*; do copy "$cpu"/cpufreq; done
copy $c/intel_pstate/no_turbo $c/cpufreq/boost $c/cpuidle/current_driver /sys/module/intel_idle/parameters/max_cstate
copy /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag
copy /sys/devices/system/clocksource/clocksource0/{current_clocksource,available_clocksource}
mkdir -p "$dest/proc"
tr ' ' '\n' < /proc/cmdline | grep -E '^(isolcpus|nohz_full|rcu_nocbs|nohz|irqaffinity|intel_idle\.max_cstate|processor\.max_cstate|idle|tsc|clocksource|transparent_hugepage|skew_tick)=?' \
  | tr '\n' ' ' | sed 's/ $//' > "$dest/proc/cmdline" || true
echo >> "$dest/proc/cmdline"
grep -E '^(Cpus|Mems)_allowed' /proc/self/status > "$dest/proc/self/status"
grep -E ':(cpuset|cpu|cpuacct|cpu,cpuacct|cpuacct,cpu)?:' /proc/self/cgroup | grep -E '^0::|cpuset|cpu' > "$dest/proc/self/cgroup" || true
grep -E ' - (cgroup|cgroup2|cpuset) ' /proc/self/mountinfo > "$dest/proc/self/mountinfo" || true
# The cgroup limits: CPU and memory-node sets and CPU quota, at each mount's top and at this
# process's cgroup paths below it.
for m in $(awk '/ - (cgroup|cgroup2|cpuset) / {print $5}' /proc/self/mountinfo); do
  for p in / $(cut -d: -f3 "$dest/proc/self/cgroup" | sort -u); do
    d=$m$p
    copy "$d"/{cgroup.controllers,cpuset.cpus.effective,cpuset.mems.effective,cpu.max,cpuset.effective_cpus}
    copy "$d"/{cpuset.effective_mems,cpuset.cpus,cpuset.mems,cpu.cfs_quota_us,cpu.cfs_period_us}
  done
done
copy /proc/sys/vm/swappiness /proc/sys/kernel/numa_balancing /proc/sys/kernel/io_uring_disabled
copy /proc/sys/net/core/{busy_poll,busy_read,somaxconn,netdev_max_backlog,rmem_max,wmem_max}
copy /proc/sys/net/ipv4/{tcp_max_syn_backlog,tcp_rmem,tcp_wmem} /proc/sys/fs/nr_open
# irqbalance, if it runs: its /proc/PID/comm is how keel finds it.
for comm in /proc/[0-9]*/comm; do
  if [ "$(cat "$comm" 2>/dev/null)" = irqbalance ]; then copy "$comm"; fi
done

# The NICs: their device chain (numa_node, local_cpulist, msi_irqs, irq), /proc/interrupts and
# each of their IRQs' /proc/irq/N (affinity files and the handler directories).
[ $# -gt 0 ] && copy /proc/interrupts
for iface in "$@"; do
  copy /sys/class/net/"$iface"
  dev=$(readlink -f /sys/class/net/"$iface"/device 2>/dev/null) || continue
  copy "$(readlink -f /sys/class/net/"$iface")"/device
  for d in "$dev" "$(dirname "$dev")" "$(dirname "$(dirname "$dev")")"; do
    copy "$d"/numa_node "$d"/local_cpulist "$d"/irq "$d"/msi_irqs/[0-9]*
  done
  pci=$(basename "$(dirname "$dev")")
  for irq in $(awk -v i="$iface" -v p="$pci" -F: '$1 ~ /^ *[0-9]+$/ && ($0 ~ p || $0 ~ i) {gsub(/ /, "", $1); print $1}' /proc/interrupts); do
    copy /proc/irq/"$irq"/{smp_affinity_list,effective_affinity_list,node}
    for h in /proc/irq/"$irq"/*/; do mkdir -p "$dest$h"; done
  done
done
echo "recorded $(find "$dest" -type f -o -type l | wc -l) files in $dest"
