#!/usr/bin/env bash
# Two builds of this tree give byte-identical jars (make check-reproducible).
# Copies the tree (tracked and new files, no build output) into two directories of different
# names (from one snapshot), builds each with `package` (tests skipped: they do not change a jar), and compares
# every jar -- main, sources and test jars -- byte for byte. project.build.outputTimestamp in
# the parent pom pins the entries' times; the copies' different paths show that no absolute
# path leaks into a jar. Prints one line per jar and exits 1 on the first difference's list.
# Takes two builds' time (about 2-4 minutes here); needs the dependencies in ~/.m2 (it runs
# Maven offline).
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
export JAVA_HOME
work=$(mktemp -d "${TMPDIR:-/tmp}/keel-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
# One snapshot of the tree, copied twice: an edit made while the builds run reaches neither.
mkdir -p "$work/snapshot"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/snapshot" 2>/dev/null || true
for copy in first second-build; do
  cp -r "$work/snapshot" "$work/$copy" # fresh file times in each copy
  ( cd "$work/$copy" && ./mvnw -B -q -o --no-transfer-progress package -DskipTests -Dcheckstyle.skip \
      -Dkeel.fuzz=0 > "$work/$copy.log" 2>&1 ) || { tail -40 "$work/$copy.log"; echo "check-reproducible: the $copy build failed" >&2; exit 1; }
done
jars=$(cd "$work/first" && find . -path '*/target/*.jar' ! -path '*/target/lib/*' | sort)
[ -n "$jars" ] || { echo "check-reproducible: no jars built" >&2; exit 1; }
differ=0
for jar in $jars; do
  if cmp -s "$work/first/$jar" "$work/second-build/$jar"; then
    echo "same     ${jar#./}  $(sha256sum < "$work/first/$jar" | cut -c1-16)"
  else
    echo "DIFFERS  ${jar#./}"
    if [ "$differ" -eq 0 ]; then # show how the first one differs: entry list, then entries
      diff <(zipinfo -l "$work/first/$jar") <(zipinfo -l "$work/second-build/$jar") | head -n 20 || true
      mkdir -p "$work/x1" "$work/x2"
      (cd "$work/x1" && unzip -qo "$work/first/$jar") && (cd "$work/x2" && unzip -qo "$work/second-build/$jar")
      diff -rq "$work/x1" "$work/x2" | head -n 20 || true
    fi
    differ=$((differ + 1))
  fi
done
if [ "$differ" -ne 0 ]; then
  echo "check-reproducible: $differ jar(s) differ between two builds" >&2
  exit 1
fi
echo "check-reproducible: $(wc -w <<<"$jars") jars byte-identical in two builds"
