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
# Two versions of one artifact (a target/ left from an older version) would put two copies of a
# module on jlink's path, and the older one could win.
dups=$(for j in "${jars[@]}"; do basename "$j" | sed -E 's/-[0-9][0-9A-Za-z.]*(-SNAPSHOT)?\.jar$//'; done | sort | uniq -d)
[ -z "$dups" ] || { echo "make-dist: more than one version of $dups in $lib: run ./mvnw clean package" >&2; exit 1; }
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
# KEEL_JAVA_OPTS adds JVM options (for example -Xmx256m). lib/keel.aot, when present, is the JDK
# AOT cache made from a 'keel train' run: classes loaded and linked, method profiles ready, so
# keel starts fast. A cache this runtime cannot use is ignored, with one line saying so.
self=\$(readlink -f "\$0") || exit 1
home=\$(dirname "\$(dirname "\$self")")
if [ -f "\$home/lib/keel.aot" ] && [ "\${KEEL_AOT:-1}" != 0 ]; then
  exec "\$home/bin/java" $access -XX:AOTCache="\$home/lib/keel.aot" -Xlog:aot*=off -Xlog:cds*=off \\
    -Dkeel.aot="\$home/lib/keel.aot" \${KEEL_JAVA_OPTS:-} $launch "\$@"
fi
exec "\$home/bin/java" $access \${KEEL_JAVA_OPTS:-} $launch "\$@"
LAUNCHER
chmod 0755 "$image/bin/keel"

# The AOT cache (JDK 25, JEPs 483/514/515): one 'keel train' run on the image's own runtime, with
# the launcher's options, records what keel loads, links and profiles; the JVM writes the cache
# when the run ends. The cache is the one file of the image that is not reproducible (it holds
# what this run measured). KEEL_AOT=0 builds the image without it.
if [ "$mode" = modules ] && [ "${KEEL_AOT:-1}" != 0 ]; then
  started=$(date +%s)
  "$image/bin/java" $access -XX:AOTCacheOutput="$image/lib/keel.aot" -Xlog:aot*=off -Xlog:cds*=off \
    -m dev.keel.cli/dev.keel.cli.Keel train > "$out/train.log" 2>&1 \
    || { cat "$out/train.log"; echo "make-dist: the training run for the AOT cache failed" >&2; exit 1; }
  [ -s "$image/lib/keel.aot" ] || { cat "$out/train.log"; echo "make-dist: no AOT cache was written" >&2; exit 1; }
  echo "make-dist: AOT cache lib/keel.aot, $(( $(stat -c %s "$image/lib/keel.aot") / 1024 / 1024 )) MiB, from a" \
    "$(( $(date +%s) - started )) s training run: $(grep -c 'keel train:' "$out/train.log") transport(s)"
fi

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
