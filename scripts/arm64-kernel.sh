#!/usr/bin/env bash
# Print the path of Debian bookworm's arm64 kernel image (vmlinuz), downloaded
# once into a cache directory through a private apt state: the host's apt
# sources, lists and architectures are not changed. Used to build and check
# the tools' arm64 objects against that kernel's BTF, and booted under
# qemu-system-aarch64 by scripts/vm-arm64.sh (hence also its config and the
# few modules that guest needs: virtio-pci and 9p, under lib/modules/).
#   scripts/arm64-kernel.sh [CACHE_DIR]     (default /var/cache/pybcc-vmtest/arm64)
set -euo pipefail
cache=${1:-${PYBCC_ARM64_CACHE:-/var/cache/pybcc-vmtest/arm64}}
found=$(ls "$cache"/boot/vmlinuz-*-arm64 2>/dev/null | head -1 || true)
if [ -n "$found" ] && [ -e "$cache/lib/modules/${found##*/vmlinuz-}/kernel/fs/9p/9p.ko" ]; then
    echo "$found"; exit 0
fi

apt_dir=$cache/apt
mkdir -p "$apt_dir"/state/lists/partial "$apt_dir"/cache/archives/partial "$apt_dir"/etc/sources.list.d \
         "$apt_dir"/etc/preferences.d
touch "$apt_dir"/state/status
# the Debian archive this machine's own apt sources use (not its security one)
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *//p' | grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
[ -n "$mirror" ] || { echo "arm64-kernel: no Debian archive in this machine's apt sources" >&2; exit 1; }
echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" \
    > "$apt_dir"/etc/sources.list
opts=(-o Dir::State="$apt_dir"/state -o Dir::State::status="$apt_dir"/state/status
      -o Dir::Cache="$apt_dir"/cache -o Dir::Etc::SourceList="$apt_dir"/etc/sources.list
      -o Dir::Etc::SourceParts="$apt_dir"/etc/sources.list.d
      -o Dir::Etc::Preferences="$apt_dir"/etc/preferences
      -o Dir::Etc::PreferencesParts="$apt_dir"/etc/preferences.d
      -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq >&2
# linux-image-arm64 is a metapackage: its dependency is the versioned image
image_pkg=$(apt-cache "${opts[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[ -n "$image_pkg" ] || { echo "arm64-kernel: no linux-image-arm64 in bookworm's lists" >&2; exit 1; }
(cd "$apt_dir" && apt-get "${opts[@]}" download "$image_pkg" >&2)
dpkg-deb --fsys-tarfile "$apt_dir"/"$image_pkg"_*.deb | tar -x -C "$cache" --wildcards \
    './boot/vmlinuz-*' './boot/config-*' './lib/modules/*/kernel/drivers/virtio/virtio_pci*' \
    './lib/modules/*/kernel/net/9p/9pnet.ko' './lib/modules/*/kernel/net/9p/9pnet_virtio.ko' \
    './lib/modules/*/kernel/fs/9p/9p.ko' './lib/modules/*/kernel/fs/netfs/netfs.ko' \
    './lib/modules/*/kernel/fs/fscache/fscache.ko'
rm -f "$apt_dir"/*.deb
ls "$cache"/boot/vmlinuz-*-arm64
