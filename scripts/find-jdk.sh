#!/usr/bin/env bash
# Prints the home of a JDK >= 22: JAVA_HOME if it is new enough, else the newest JDK under
# /usr/lib/jvm. Exits 1 with a one-line reason when there is none.
set -u
min=22

feature_of() { # JDK home -> feature version, or nothing
  local rel="$1/release"
  [ -x "$1/bin/javac" ] || return 0
  [ -f "$rel" ] || return 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel"
}

if [ -n "${JAVA_HOME:-}" ]; then
  v=$(feature_of "$JAVA_HOME")
  if [ -n "$v" ] && [ "$v" -ge "$min" ]; then echo "$JAVA_HOME"; exit 0; fi
fi

best= bestv=0
for home in /usr/lib/jvm/*; do
  [ -L "$home" ] && continue
  v=$(feature_of "$home")
  if [ -n "$v" ] && [ "$v" -ge "$min" ] && [ "$v" -gt "$bestv" ]; then best=$home bestv=$v; fi
done
if [ -z "$best" ]; then
  echo "no JDK >= $min found (JAVA_HOME=${JAVA_HOME:-unset}, nothing suitable under /usr/lib/jvm); install one, e.g. Temurin 25" >&2
  exit 1
fi
echo "$best"
