#!/usr/bin/env bash
# The Debian package of `make deb` (make dist-test runs this after dist-test.sh): its control
# fields, its contents as dpkg-deb lists them (the image under /opt/keel, the /usr/bin/keel
# link, the copyright file, the unit as an example; every file root's), and, unpacked with
# dpkg-deb -x into a temporary directory, /usr/bin/keel --version run with PATH=/usr/bin:/bin
# and no JAVA_HOME through the link. Installs nothing on this machine.
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 keel_<version>_amd64.deb" >&2; exit 2; }
deb=$(readlink -f "$1")
version=$(basename "$deb" | sed -n 's/^keel_\(.*\)_amd64\.deb$/\1/p')
fail() { echo "deb-test: FAILED: $*" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/keel-deb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

[ "$(dpkg-deb --field "$deb" Package)" = keel ] || fail "Package is not keel"
[ "$(dpkg-deb --field "$deb" Version)" = "$version" ] || fail "Version is not $version"
[ "$(dpkg-deb --field "$deb" Architecture)" = amd64 ] || fail "Architecture is not amd64"

dpkg-deb --contents "$deb" > "$work/contents"
# Columns: mode owner/group size date time path [-> target]
while read -r path; do
  grep -qE " \\.${path}( |\$)" "$work/contents" || fail "$path not in the package"
done <<'PATHS'
/opt/keel/bin/keel
/opt/keel/bin/java
/opt/keel/lib/modules
/opt/keel/LICENSE
/opt/keel/NOTICE
/usr/share/doc/keel/copyright
/usr/share/doc/keel/examples/keel-serve.service
/usr/share/doc/keel/examples/systemd.md
PATHS
grep -qE ' \./usr/bin/keel -> \.\./\.\./opt/keel/bin/keel$' "$work/contents" || fail "/usr/bin/keel is not a link to /opt/keel/bin/keel"
owners=$(awk '{print $2}' "$work/contents" | sort -u | tr '\n' ' ')
[ "$owners" = "root/root " ] || fail "files owned by $owners, not root/root"
! grep -qE '\./(etc|lib/systemd|usr/lib/systemd)/' "$work/contents" || fail "the package installs configuration or a unit"
echo "deb-test: ok: $(wc -l < "$work/contents") entries, all root/root; /opt/keel image, /usr/bin/keel link, copyright, examples"

dpkg-deb -x "$deb" "$work/root"
out=$(env -i PATH=/usr/bin:/bin HOME="$work" timeout 60 "$work/root/usr/bin/keel" --version) || fail "usr/bin/keel --version exited $?"
[ "$out" = "keel $version" ] || fail "usr/bin/keel --version printed '$out'"
echo "deb-test: ok: unpacked, usr/bin/keel --version: $out"
echo "deb-test: passed ($deb, $(stat -c %s "$deb") bytes)"
