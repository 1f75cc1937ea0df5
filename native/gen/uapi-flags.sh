#!/usr/bin/env bash
# Prints the compiler flags that give keelgen Linux uapi headers new enough for every name it
# reads, or nothing when this machine's own headers are (make gen, native/Makefile and
# GeneratedSourcesTest all compile keelgen with them).
#
# keelgen reads io_uring names up to Linux 6.15 (IORING_ENTER_NO_IOWAIT); a Debian 12 machine
# carries the headers of Linux 6.1. Then Debian's newer linux-libc-dev (the kernel's uapi
# headers only, no libc) is fetched once with apt-get from the suite below, through the
# Debian mirror this machine's apt already uses, into a private apt state (the machine's own
# package lists and installed headers stay untouched), and unpacked into a per-user cache.
# glibc's headers stay the machine's; only linux/ and asm/ come from the cache. Values never
# change between header versions, so any new enough linux-libc-dev gives the same output.
set -euo pipefail

NEEDED=IORING_ENTER_NO_IOWAIT
SUITE=${KEEL_UAPI_SUITE:-trixie-backports}
CACHE=${KEEL_UAPI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keel/uapi}
ARCH_DIR=$(gcc -print-multiarch)

new_enough() { grep -qw "$NEEDED" "$1/linux/io_uring.h" 2>/dev/null; }
flags() { echo "-isystem $1/$ARCH_DIR -isystem $1"; }

if new_enough /usr/include; then
  exit 0
fi
if new_enough "$CACHE/usr/include"; then
  flags "$CACHE/usr/include"
  exit 0
fi

mirror=
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk '$1 == "URIs:" && $2 ~ /\/debian\/?$/ { print $2; exit }' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
  echo "uapi-flags: /usr/include/linux/io_uring.h lacks $NEEDED and no Debian mirror is configured for apt;" \
    "install linux-libc-dev of Linux 6.15 or later" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $SUITE main" > "$work/sources.list"
apt_opts=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
echo "uapi-flags: fetching linux-libc-dev from Debian $SUITE for keelgen (this machine's headers predate $NEEDED)" >&2
apt-get "${apt_opts[@]}" update >&2
(cd "$work" && apt-get "${apt_opts[@]}" download linux-libc-dev >&2)
mkdir -p "$work/x"
dpkg-deb -x "$work"/linux-libc-dev_*.deb "$work/x"
if ! new_enough "$work/x/usr/include"; then
  echo "uapi-flags: linux-libc-dev of $SUITE lacks $NEEDED too" >&2
  exit 1
fi
mkdir -p "$(dirname "$CACHE")"
rm -rf "$CACHE"
mv "$work/x" "$CACHE"
flags "$CACHE/usr/include"
