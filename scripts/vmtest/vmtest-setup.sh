#!/bin/bash
# Copied from the workplace's /work/shared/vmtest/vmtest-setup.sh (shared vmtest runner),
# kept here so that a clean clone of pybcc is self-contained. Keep in sync.
# vmtest-setup.sh DEST [META_PACKAGE...]
#
# Install what vmtest.sh needs and unpack (never install) the current Debian
# kernel(s) behind the given meta packages into DEST/<release>/, giving
#   DEST/<release>/boot/vmlinuz-<release>   (pass this to vmtest.sh)
#   DEST/<release>/lib/modules/<release>/   (modules, depmod'ed; build -> headers)
# Default meta package: linux-image-amd64 (bookworm: 6.1).  Bookworm also has
# linux-image-6.12-amd64.  The cloud flavour lacks 9p, so use the generic one.
# WITH_HEADERS=1 also unpacks linux-headers-<release>{,-common} (for bcc-style
# C compilation against kernel headers) and points lib/modules/<rel>/build at it.
set -euo pipefail
DEST=${1:?usage: vmtest-setup.sh DEST [META_PACKAGE...]}
shift
METAS=("$@"); [ ${#METAS[@]} -gt 0 ] || METAS=(linux-image-amd64)
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

[ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] || "${APT[@]}" update -qq
need=()
for c in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod cpio:cpio xz:xz-utils; do
    command -v "${c%%:*}" >/dev/null 2>&1 || need+=("${c#*:}")
done
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root || need+=(busybox-static)
[ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -q --no-install-recommends "${need[@]}"

mkdir -p "$DEST"
DEST=$(readlink -f "$DEST")
DL=$(mktemp -d /tmp/vmtest-dl.XXXXXX)
trap 'rm -rf "$DL"' EXIT
for meta in "${METAS[@]}"; do
    pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-/{print $2; exit}')
    [ -n "$pkg" ] || pkg=$meta                      # already a concrete package
    rel=${pkg#linux-image-}; rel=${rel%-unsigned}
    out="$DEST/$rel"
    if [ ! -e "$out/boot/vmlinuz-$rel" ]; then
        (cd "$DL" && "${APT[@]}" download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
        dpkg -x "$DL"/${pkg}_*.deb "$out"
        depmod -b "$out" "$rel"
    fi
    if [ "${WITH_HEADERS:-0}" = 1 ] && [ ! -d "$out/usr/src/linux-headers-$rel" ]; then
        common=$(apt-cache depends "linux-headers-$rel" | awk '/Depends: linux-headers-.*-common/{print $2; exit}')
        (cd "$DL" && "${APT[@]}" download -q "linux-headers-$rel" $common 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
        for d in "$DL"/linux-headers-*.deb; do dpkg -x "$d" "$out"; done
        rm -f "$DL"/linux-headers-*.deb
        ln -sfn "$out/usr/src/linux-headers-$rel" "$out/lib/modules/$rel/build"
        [ -n "$common" ] && ln -sfn "$out/usr/src/${common}" "$out/lib/modules/$rel/source"
        # the -amd64 tree refers to the -common tree by absolute /usr/src path
        [ -n "$common" ] && sed -i "s#/usr/src/${common}#$out/usr/src/${common}#g" \
            "$out/usr/src/linux-headers-$rel/Makefile"
    fi
    echo "$out/boot/vmlinuz-$rel"
done
