#!/usr/bin/env bash
# Packs a recorded /sys and /proc tree as the tests unpack it (RecordedMachines): POSIX ustar,
# files and symbolic links only, owner 0, time 0, sorted, gzip without a name or time stamp, so
# the same tree always packs to the same bytes.
#
#   scripts/pack-tree.sh DIR OUT.tar.gz
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR OUT.tar.gz" >&2; exit 2; }
list=$(mktemp)
trap 'rm -f "$list"' EXIT
(cd "$1" && find . \( -type f -o -type l \) -print | LC_ALL=C sort > "$list")
tar -C "$1" --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 --no-recursion -cf - -T "$list" \
  | gzip -9n > "$2"
echo "$2: $(wc -l < "$list") files"
