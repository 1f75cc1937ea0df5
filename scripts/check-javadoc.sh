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
exported=dev.keel.ffm,dev.keel.affinity,dev.keel.numa,dev.keel.io,dev.keel.zerocopy,dev.keel.zerocopy.http,dev.keel.zerocopy.proxy
srcpath=$(printf '%s/src/main/java:' "${modules[@]}")
# module-info.java files (once the modules have them) are left out: the check runs on the class path.
packages=$(for m in "${modules[@]}"; do (cd "$m/src/main/java" && find . -name '*.java' ! -name module-info.java -printf '%h\n'); done \
  | sed -e 's|^\./||' -e 's|/|.|g' | sort -u)
cp=$(find "${HOME}/.m2/repository/org/jctools" -name 'jctools-core-jdk11-*.jar' ! -name '*-sources.jar' | sort | tail -n 1)
[ -n "$cp" ] || { echo "check-javadoc: JCTools jar not in ~/.m2 (run ./mvnw install once)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# shellcheck disable=SC2086
"$javadoc" -quiet -d "$work/all" -Xdoclint:all,-missing -Xmaxwarns 100000 -Xmaxerrs 100000 \
  -cp "$cp" --source-path "$srcpath" $packages > "$work/all.log" 2>&1 || true
findings=$(grep -cE ': (warning|error):' "$work/all.log" || true)
if [ "$findings" -ne 0 ]; then
  grep -E -A2 ': (warning|error):' "$work/all.log"
  echo "check-javadoc: $findings doclint findings (syntax, HTML, accessibility, references)"
  status=1
else
  echo "check-javadoc: all packages: no doclint warning or error"
fi

# shellcheck disable=SC2086
"$javadoc" -quiet -d "$work/api" -Xdoclint:missing "-Xdoclint/package:$exported" -Xmaxwarns 100000 \
  -cp "$cp" --source-path "$srcpath" $packages > "$work/api.log" 2>&1 || true
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
