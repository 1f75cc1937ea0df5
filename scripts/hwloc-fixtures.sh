#!/usr/bin/env bash
# Makes the recorded-machine fixtures of the topology tests from hwloc's test trees:
# for each NAME.tar.bz2 in SRC (default ../shared/fixtures/hwloc-linux), a NAME.tar.gz holding
# only the files keel's readers open (the full trees are 2-34 MB each, mostly files keel never
# reads), beside hwloc's own view of the machine (NAME.console or NAME.xml) and the BSD notice.
# The kept files are byte for byte hwloc's; nothing is edited.
#
#   scripts/hwloc-fixtures.sh [SRC]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$(cd "${1:-$here/../shared/fixtures/hwloc-linux}" && pwd)
dst=$here/affinity/src/test/resources/hwloc-linux
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Paths (below a tree's root) that keel reads: CPU and node topology, caches, hybrid-core hints,
# node memory, the process's status and cgroups (with the cgroup file systems' cpuset/cpu files
# wherever they were mounted), and NIC locality.
keep='^\./(sys/devices/system/cpu/(possible|present|online|isolated|nohz_full)'
keep+='|sys/devices/system/cpu/cpu[0-9]+/(online|cpu_capacity|node[0-9]+|cpufreq)'
keep+='|sys/devices/system/cpu/cpu[0-9]+/topology/(physical_package_id|die_id|core_id|core_cpus_list|core_cpus|thread_siblings_list|thread_siblings)'
keep+='|sys/devices/system/cpu/cpu[0-9]+/cache/index[0-9]+/(level|type|size|shared_cpu_list|shared_cpu_map|id)'
keep+='|sys/devices/system/cpu/(cpu[0-9]+/cpufreq|cpufreq/policy[0-9]+)/base_frequency'
keep+='|sys/devices/system/cpu/cpu[0-9]+/regs/identification/midr_el1'
keep+='|sys/devices/system/node/(online|possible|has_memory|has_cpu)'
keep+='|sys/devices/system/node/node[0-9]+/(cpulist|cpumap|meminfo|distance)'
keep+='|sys/devices/(cpu_core|cpu_atom)/cpus'
keep+='|proc/(meminfo|mounts|self/(status|cgroup|mountinfo|cpuset))'
keep+='|(dev|cgroup|sys/fs/cgroup)/.*/?(cgroup\.controllers|cpus|mems|cpuset\.(cpus|mems|cpus\.effective|mems\.effective|effective_cpus|effective_mems)|cpu\.max|cpu\.cfs_(quota|period)_us)'
keep+='|sys/class/net/[^/]+|sys/devices/pci[^/]+/.*/(numa_node|local_cpulist|irq|net/[^/]+/device))$'

mkdir -p "$dst"
cp "$src/COPYING" "$dst/COPYING"
for archive in "$src"/*.tar.bz2; do
  name=$(basename "$archive" .tar.bz2)
  rm -rf "$work"/*
  tar -xjf "$archive" -C "$work"
  root=$(find "$work" -mindepth 1 -maxdepth 1 -type d)
  (cd "$root" && find . \( -type f -o -type l \) -print | LC_ALL=C sort | grep -E "$keep" > "$work/list")
  tar -C "$root" --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 --no-recursion \
      -cf - -T "$work/list" | gzip -9n > "$dst/$name.tar.gz"
  for view in console xml; do
    if [ -f "$src/$name.$view" ]; then cp "$src/$name.$view" "$dst/"; fi
  done
  echo "$name: $(wc -l < "$work/list") files, $(du -k "$dst/$name.tar.gz" | cut -f1) KiB"
done
