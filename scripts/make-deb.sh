#!/usr/bin/env bash
# make deb: the image of `make dist` as a Debian package, target/dist/keel_<version>_amd64.deb,
# built with dpkg-deb (no root needed): the image in /opt/keel, /usr/bin/keel a symlink to its
# launcher (which follows the link to find its runtime), the license in
# /usr/share/doc/keel/copyright, the systemd unit and its page as examples (installing the
# package starts and enables nothing). Reproducible: file times are the pom's outputTimestamp.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n '/<artifactId>keel-parent<\/artifactId>/,/<\/version>/s|.*<version>\(.*\)</version>.*|\1|p' pom.xml | head -n 1)
image="target/dist/keel-$version"
[ -x "$image/bin/keel" ] || { echo "make-deb: $image missing: run make dist" >&2; exit 1; }
stamp=$(sed -n 's|.*<project.build.outputTimestamp>\(.*\)</project.build.outputTimestamp>.*|\1|p' pom.xml | head -n 1)
deb="target/dist/keel_${version}_amd64.deb"
root=target/dist/deb-root
rm -rf "$root" "$deb"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/doc/keel/examples"
cp -a "$image" "$root/opt/keel"
ln -s ../../opt/keel/bin/keel "$root/usr/bin/keel"
{ cat LICENSE; echo; echo '----'; echo; cat NOTICE; } > "$root/usr/share/doc/keel/copyright"
cp CHANGELOG.md README.md "$root/usr/share/doc/keel/"
cp docs/systemd/keel-serve.service docs/systemd.md "$root/usr/share/doc/keel/examples/"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: keel
Version: $version
Architecture: amd64
Maintainer: the keel maintainers <https://keel.dev/>
Installed-Size: $size
Depends: libc6 (>= 2.31)
Section: net
Priority: optional
Homepage: https://keel.dev/
Description: Linux networking toolkit for the JVM: keel serve, echo, proxy, cpus, numa, tune
 keel serve is a zero-copy static file server on epoll or io_uring with pinned,
 NUMA-local event loops; keel cpus, numa and tune inspect and tune a machine for
 latency. The package carries its own Java runtime (jlink) in /opt/keel: no JDK
 is needed. An example systemd unit is in /usr/share/doc/keel/examples.
CONTROL
find "$root" -exec touch -h -d "$stamp" {} +
SOURCE_DATE_EPOCH=$(date -d "$stamp" +%s) dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" > /dev/null
rm -rf "$root"
echo "make-deb: $deb ($(stat -c %s "$deb") bytes)"
