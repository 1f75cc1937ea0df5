#!/usr/bin/env bash
# Javadoc of keel's library modules, checked two ways (make javadoc-check; make dist runs it too):
#  1. every package, doclint's syntax, HTML, accessibility and reference checks: no warning, no
#     error (the Javadoc jars of the release profile are built with the same checks);
#  2. the exported API (the packages module-info exports, apart from the generated kernel
#     constants, which name the header each group comes from): every public and protected type,
#     constructor, method and field has a comment. Missing @param/@return tags are counted, not
#     failed: the comments say what a call does and costs in prose.
# Needs no build: it reads the sources. Prints what it found; exits 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
javadoc="$JAVA_HOME/bin/javadoc"
modules=(ffm-bindings affinity numa io-core zerocopy cli)
# The exported API: what the modules' descriptors export to everyone (not "exports ... to"),
# else, before the modules have descriptors, the packages they will export.
exported=$(cat ffm-bindings/src/main/java/module-info.java affinity/src/main/java/module-info.java \
    numa/src/main/java/module-info.java io-core/src/main/java/module-info.java \
    zerocopy/src/main/java/module-info.java 2>/dev/null \
  | sed -n 's/^ *exports *\([a-z0-9_.]*\) *; *$/\1/p' | grep -v '^dev\.keel\.ffm\.gen$' | sort -u | paste -sd, || true)
[ -n "$exported" ] || exported=dev.keel.ffm,dev.keel.affinity,dev.keel.numa,dev.keel.io,dev.keel.io.stats,dev.keel.zerocopy,dev.keel.zerocopy.http,dev.keel.zerocopy.proxy
jctools=$(sed -n 's|.*<jctools.version>\(.*\)</jctools.version>.*|\1|p' pom.xml | head -n 1)
jars=$(find "${HOME}/.m2/repository/org/jctools" -name "jctools-core*-$jctools.jar" | sort | paste -sd:)
[ -n "$jars" ] || { echo "check-javadoc: JCTools $jctools not in ~/.m2 (run ./mvnw install once)" >&2; exit 1; }
# Once every module has its descriptor, javadoc reads them as modules (each from its own source
# directory, every package shown, internal ones too); before that, all sources on the class path.
if [ "$(ls "${modules[@]/%//src/main/java/module-info.java}" 2>/dev/null | wc -l)" -eq "${#modules[@]}" ]; then
  mode=(--module-path "$jars" --show-packages all --module "")
  names=()
  for m in "${modules[@]}"; do
    name=$(sed -n 's/^\(open \)\{0,1\}module *\([a-z0-9_.]*\).*/\2/p' "$m/src/main/java/module-info.java" | head -n 1)
    names+=("$name")
    mode=(--module-source-path "$name=$m/src/main/java" "${mode[@]}")
  done
  mode[${#mode[@]}-1]=$(IFS=,; echo "${names[*]}")
  what="modules ${mode[${#mode[@]}-1]}"
else
  srcpath=$(printf '%s/src/main/java:' "${modules[@]}")
  packages=$(for m in "${modules[@]}"; do (cd "$m/src/main/java" && find . -name '*.java' -printf '%h\n'); done \
    | sed -e 's|^\./||' -e 's|/|.|g' | sort -u)
  # shellcheck disable=SC2206
  mode=(-cp "$jars" --source-path "$srcpath" $packages)
  what="every package on the class path"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

rc=0
"$javadoc" -quiet -d "$work/all" -Xdoclint:all,-missing -Xmaxwarns 100000 -Xmaxerrs 100000 \
  "${mode[@]}" > "$work/all.log" 2>&1 || rc=$?
findings=$(grep -cE ': (warning|error):' "$work/all.log" || true)
if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then
  tail -n 20 "$work/all.log"
  echo "check-javadoc: javadoc failed (status $rc)"
  exit 1
elif [ "$findings" -ne 0 ]; then
  grep -E -A2 ': (warning|error):' "$work/all.log"
  echo "check-javadoc: $findings doclint findings (syntax, HTML, accessibility, references)"
  status=1
else
  echo "check-javadoc: $what: no doclint warning or error"
fi

rc=0
"$javadoc" -quiet -d "$work/api" -Xdoclint:missing "-Xdoclint/package:$exported" -Xmaxwarns 100000 \
  "${mode[@]}" > "$work/api.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then # missing comments are warnings: a failure here is javadoc's own
  grep -E ': error:|^error' "$work/api.log" | head -n 20 || tail -n 20 "$work/api.log"
  echo "check-javadoc: javadoc failed on the exported API (status $rc)"
  exit 1
fi
uncommented=$(grep -E ': warning: (no comment|no main description|use of default constructor)' "$work/api.log" || true)
tags=$(grep -cE ': warning: no @(param|return|throws)' "$work/api.log" || true)
if [ -n "$uncommented" ]; then
  echo "$uncommented"
  echo "check-javadoc: $(wc -l <<<"$uncommented") exported types or members without a comment ($exported)"
  status=1
else
  echo "check-javadoc: exported API ($exported): every public type and member has a comment ($tags @param/@return tags left to the prose)"
fi
exit $status
