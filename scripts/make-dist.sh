#!/usr/bin/env bash
# make dist: a keel that needs no JDK, as target/dist/keel-<version>-linux-x86_64.tar.gz.
#
# The image is a jlink runtime holding only the JDK modules keel's jars use (jdeps finds them
# from cli's jar and its runtime dependencies, nothing is listed by hand), keel's jars, and
# bin/keel, a launcher that runs the image's own java. Once the keel modules have module
# descriptors (cli/src/main/java/module-info.java), they are linked into the image themselves
# and bin/keel runs dev.keel.cli with native access granted to dev.keel.ffm only; before that
# the jars go to lib/keel/ on the class path with native access for the class path.
# The tarball is reproducible (sorted entries, fixed times and owners). Run after `package`
# (make dist does both); prints the tarball's path and size.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
jdk_bin="$JAVA_HOME/bin"

version=$(sed -n '/<artifactId>keel-parent<\/artifactId>/,/<\/version>/s|.*<version>\(.*\)</version>.*|\1|p' pom.xml | head -n 1)
[ -n "$version" ] || { echo "make-dist: no version in pom.xml" >&2; exit 1; }
cli_jar="cli/target/cli-$version.jar"
lib=cli/target/lib
[ -f "$cli_jar" ] && [ -d "$lib" ] || { echo "make-dist: $cli_jar or $lib missing: run ./mvnw -DskipTests package" >&2; exit 1; }

name="keel-$version"
out=target/dist
image="$out/$name"
tarball="$out/$name-linux-x86_64.tar.gz"
rm -rf "$image" "$tarball"
mkdir -p "$out"

# Every jar of the command: cli's and its runtime dependencies (keel's modules and JCTools).
jars=("$cli_jar" "$lib"/*.jar)
jdk_modules=$("$jdk_bin/jdeps" --ignore-missing-deps --print-module-deps -q \
  --multi-release "$("$jdk_bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" \
  --class-path "$(IFS=:; echo "${jars[*]}")" "${jars[@]}")
[ -n "$jdk_modules" ] || { echo "make-dist: jdeps found no JDK modules" >&2; exit 1; }
echo "make-dist: JDK modules keel uses (jdeps): $jdk_modules"

# No compression inside the image: gzip packs the plain module image better (for the class-path
# image, 21.5 MB against 25.2 MB with --compress zip-6), and the runtime need not inflate classes.
jlink_common=(--strip-debug --no-header-files --no-man-pages --compress zip-0 --output "$image")
if [ -f cli/src/main/java/module-info.java ]; then
  mode=modules
  "$jdk_bin/jlink" --module-path "$(IFS=:; echo "${jars[*]}")" --add-modules "dev.keel.cli,$jdk_modules" \
    "${jlink_common[@]}"
  launch='-m dev.keel.cli/dev.keel.cli.Keel'
  access='--enable-native-access=dev.keel.ffm'
else
  mode=classpath
  "$jdk_bin/jlink" --add-modules "$jdk_modules" "${jlink_common[@]}"
  mkdir -p "$image/lib/keel"
  cp "${jars[@]}" "$image/lib/keel/"
  launch='-cp "$home/lib/keel/*" dev.keel.cli.Keel'
  access='--enable-native-access=ALL-UNNAMED'
fi

cat > "$image/bin/keel" <<LAUNCHER
#!/bin/sh
# keel $version: runs on the Java runtime of this directory; needs no JDK and no JAVA_HOME.
# KEEL_JAVA_OPTS adds JVM options (for example -Xmx256m).
self=\$(readlink -f "\$0") || exit 1
home=\$(dirname "\$(dirname "\$self")")
exec "\$home/bin/java" $access \${KEEL_JAVA_OPTS:-} $launch "\$@"
LAUNCHER
chmod 0755 "$image/bin/keel"

cp LICENSE NOTICE README.md CHANGELOG.md "$image/"
mkdir -p "$image/docs/systemd"
cp docs/systemd.md "$image/docs/"
cp docs/systemd/keel-serve.service "$image/docs/systemd/"
printf 'keel %s (%s)\nJDK modules: %s\n' "$version" "$mode" "$jdk_modules" > "$image/release-keel"

# Reproducible: the times of the pom's outputTimestamp, sorted names, no owner names.
stamp=$(sed -n 's|.*<project.build.outputTimestamp>\(.*\)</project.build.outputTimestamp>.*|\1|p' pom.xml | head -n 1)
tar --sort=name --mtime="$stamp" --owner=0 --group=0 --numeric-owner \
  -C "$out" -cf - "$name" | gzip -n -9 > "$tarball"
size=$(stat -c %s "$tarball")
echo "make-dist: $tarball ($mode image, $(du -sh "$image" | cut -f1) unpacked, $((size / 1024 / 1024)) MiB packed: $size bytes)"
