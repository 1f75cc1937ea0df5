#!/usr/bin/env bash
# The distribution as a user gets it (make dist-test): unpacks TARBALL into a temporary
# directory and runs it with PATH=/usr/bin:/bin and nothing else in the environment (no
# JAVA_HOME, no JDK on the PATH; `env -i`), checking:
#   - the image: bin/keel and the runtime's own bin/java, LICENSE, NOTICE, the systemd unit;
#     only the JDK modules keel needs (no compiler, no desktop), no JDK tools;
#   - bin/keel --version prints "keel <version of the tarball's name>" and nothing on stderr;
#   - bin/keel cpus --json is JSON whose online CPUs are this machine's and whose usable count
#     matches its usable list;
#   - bin/keel serve on a temporary root answers curl with the files' exact bytes (whole and a
#     range), then closes its server on SIGTERM (status 143, as the JVM ends on SIGTERM);
#   - run through a symlink (as from /usr/local/bin), bin/keel still finds its runtime;
#   - the JDK AOT cache lib/keel.aot is in use (the JVM's own log says so), and a damaged one is
#     ignored with exactly one line on stderr while keel still runs; the time to serve's ready
#     line with and without the cache is printed (not asserted: no timed assertions).
# Every wait is bounded (timeout); the server and the directory are removed however it ends.
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 keel-<version>-linux-x86_64.tar.gz" >&2; exit 2; }
tarball=$(readlink -f "$1")
base=$(basename "$tarball" -linux-x86_64.tar.gz)
version=${base#keel-}
work=$(mktemp -d "${TMPDIR:-/tmp}/keel-dist-test.XXXXXX")
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "dist-test: FAILED: $*" >&2; exit 1; }
ok() { echo "dist-test: ok: $*"; }
# The user's environment: only the PATH of a fresh system; CPU reservations of this test in its
# own directory, so that it neither sees nor blocks keel processes running on this machine.
as_user=(env -i PATH=/usr/bin:/bin HOME="$work" KEEL_CPU_LOCKDIR="$work/cpu-locks")
user() { "${as_user[@]}" "$@"; }

tar -xzf "$tarball" -C "$work"
home="$work/$base"
[ -d "$home" ] || fail "the tarball has no top directory $base"
for f in bin/keel bin/java lib/modules lib/keel.aot LICENSE NOTICE CHANGELOG.md docs/systemd/keel-serve.service docs/systemd.md; do
  [ -e "$home/$f" ] || fail "$f missing from the image"
done
for f in bin/javac bin/jlink bin/jar jmods include; do
  [ ! -e "$home/$f" ] || fail "$f in the image: it carries more of the JDK than keel needs"
done
modules=$(user timeout 60 "$home/bin/java" --list-modules | sed 's/@.*//' | sort | tr '\n' ' ')
for m in java.desktop jdk.compiler java.sql; do
  case " $modules " in *" $m "*) fail "$m linked into the image (keel does not use it): $modules" ;; esac
done
ok "image holds $(find "$home" -type f | wc -l) files, $(du -sh "$home" | cut -f1); modules: $modules"

out=$(user timeout 60 "$home/bin/keel" --version 2> "$work/version.err") || fail "bin/keel --version exited $?"
[ "$out" = "keel $version" ] || fail "bin/keel --version printed '$out', wanted 'keel $version'"
# Nothing on stderr: in particular no JVM warning about native access the launcher did not grant.
[ ! -s "$work/version.err" ] || { cat "$work/version.err" >&2; fail "bin/keel --version wrote to stderr"; }
ok "bin/keel --version: $out"

# The AOT cache: mapped and its linked classes used (the JVM's aot log, turned back on).
user env KEEL_JAVA_OPTS=-Xlog:aot=info timeout 60 "$home/bin/keel" --version > "$work/aot.log" 2>&1 \
  || { cat "$work/aot.log" >&2; fail "bin/keel with the aot log exited $?"; }
grep -q 'Using AOT-linked classes: true' "$work/aot.log" \
  || { cat "$work/aot.log" >&2; fail "the JVM did not use lib/keel.aot"; }
ok "bin/keel runs with the AOT cache lib/keel.aot ($(( $(stat -c %s "$home/lib/keel.aot") / 1024 / 1024 )) MiB)"
# A damaged cache: the JVM refuses it, keel says so in one line and runs the slow way.
cp "$home/lib/keel.aot" "$work/keel.aot.good"
head -c 100000 "$work/keel.aot.good" > "$home/lib/keel.aot"
out=$(user timeout 60 "$home/bin/keel" --version 2> "$work/aot.err") || fail "bin/keel with a damaged cache exited $?"
mv "$work/keel.aot.good" "$home/lib/keel.aot"
[ "$out" = "keel $version" ] || fail "with a damaged cache, bin/keel --version printed '$out'"
[ "$(wc -l < "$work/aot.err")" -eq 1 ] && grep -q 'AOT cache .*keel.aot does not match' "$work/aot.err" \
  || { cat "$work/aot.err" >&2; fail "a damaged cache did not give exactly one line saying so"; }
ok "a damaged cache is ignored with one line: $(cat "$work/aot.err")"

user timeout 60 "$home/bin/keel" cpus --json > "$work/cpus.json" || fail "bin/keel cpus --json exited $?"
python3 - "$work/cpus.json" <<'PY' || fail "bin/keel cpus --json: see above"
import json, sys
doc = json.load(open(sys.argv[1]))
def cpus(text):
    out = set()
    for part in filter(None, text.strip().split(',')):
        lo, _, hi = part.partition('-')
        out.update(range(int(lo), int(hi or lo) + 1))
    return out
online = open('/sys/devices/system/cpu/online').read()
assert doc['schema'] == 1, doc['schema']
assert cpus(doc['online']) == cpus(online), (doc['online'], online)
assert doc['usableCount'] == len(cpus(doc['usable'])) > 0, (doc['usableCount'], doc['usable'])
assert cpus(doc['usable']) <= cpus(online)
print('dist-test: ok: bin/keel cpus --json: online', doc['online'], 'usable', doc['usable'])
PY

root="$work/root"
mkdir -p "$root/sub"
printf '<!doctype html><title>keel</title><p>served from the distribution\n' > "$root/index.html"
head -c 3000000 /dev/urandom > "$root/sub/blob.bin"
log="$work/serve.log"
# Launched through a symlink, as from /usr/local/bin.
mkdir -p "$work/usr-local-bin"
ln -s "$home/bin/keel" "$work/usr-local-bin/keel"
# Started straight from this shell (not through a function, which would fork a subshell), so
# that $! is the server: env and bin/keel exec, and the process is the runtime's java.
# Time to the ready line without the AOT cache (printed, not asserted), then the real run with it.
for aot in 0 1; do
started=$(date +%s%N)
"${as_user[@]}" KEEL_AOT=$aot "$work/usr-local-bin/keel" serve --root "$root" --port 0 --loops 1 > "$log" 2>&1 &
server=$!
url=
for _ in $(seq 1 3000); do # at most 30 s for the ready line
  url=$(sed -n 's|^keel serve: \(http://[^ ]*/\) .*|\1|p' "$log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; fail "keel serve exited before it listened"; }
  sleep 0.01
done
[ -n "$url" ] || { cat "$log" >&2; fail "keel serve printed no ready line within 30 s"; }
echo "dist-test: keel serve ready after $(( ($(date +%s%N) - started) / 1000000 )) ms $( [ $aot = 1 ] && echo with || echo without) the AOT cache"
[ $aot = 1 ] && break
kill -TERM "$server"; wait "$server" || true; server=
done
[ "$(readlink "/proc/$server/exe")" = "$home/bin/java" ] || fail "the server runs $(readlink "/proc/$server/exe"), not the image's java"
ok "$(head -n 1 "$log")"
curl -sS --max-time 30 -o "$work/got.bin" "${url}sub/blob.bin" || fail "curl of ${url}sub/blob.bin"
cmp -s "$root/sub/blob.bin" "$work/got.bin" || fail "the 3,000,000-byte file came back different"
curl -sS --max-time 30 -o "$work/range.bin" -r 1000000-1000999 "${url}sub/blob.bin" || fail "curl of a range"
cmp -s <(tail -c +1000001 "$root/sub/blob.bin" | head -c 1000) "$work/range.bin" || fail "the range came back different"
page=$(curl -sS --max-time 30 "$url") || fail "curl of $url"
[ "$page" = "$(cat "$root/index.html")" ] || fail "GET / did not answer index.html"
ok "curl: 3,000,000 bytes, a 1,000-byte range and index.html, each byte as on disk"
kill -TERM "$server"
status=0
timeout 30 tail --pid="$server" -f /dev/null || fail "keel serve still running 30 s after SIGTERM"
wait "$server" || status=$?
server=
# The JVM ends a process it stopped for SIGTERM with 128 + 15, after its shutdown hooks ran:
# keel's hook closes the server and says so (the systemd unit counts 143 as success).
[ "$status" -eq 143 ] || { cat "$log" >&2; fail "keel serve exited $status on SIGTERM, not 143"; }
grep -qx 'keel serve: stopped' "$log" || { cat "$log" >&2; fail "keel serve did not say it stopped"; }
! grep -q 'WARNING' "$log" || { cat "$log" >&2; fail "keel serve logged a warning"; }
ok "keel serve closed its server on SIGTERM ('keel serve: stopped', status 143)"
echo "dist-test: passed ($tarball, $(stat -c %s "$tarball") bytes)"
