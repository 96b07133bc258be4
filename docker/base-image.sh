#!/usr/bin/env bash
# Make the image debian:bookworm-slim from Debian's own packages, for machines that reach Debian's
# mirror but no Docker registry: debootstrap's minimal bookworm, imported as that name, so the
# Dockerfile builds unchanged here and from Docker Hub elsewhere. Needs root, debootstrap and
# docker. Usage: docker/base-image.sh [IMAGE [MIRROR]]
set -euo pipefail

image=${1:-debian:bookworm-slim}
# the mirror apt uses here (deb822 URIs: or a one-line deb entry), else Debian's own
mirror=${2:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p; s/^deb \(http[^ ]*\/debian\) .*/\1/p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}

if docker image inspect "$image" >/dev/null 2>&1; then
    echo "$image is already there"
    exit 0
fi
root=$(mktemp -d /tmp/captionbot-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror"
cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
SOURCES
# as in Docker Hub's slim images: no apt caches, lists or documentation in the base
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
tar -C "$root" -c . | docker import - "$image"
echo "imported $image from $mirror"
