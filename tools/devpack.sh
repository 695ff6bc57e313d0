#!/usr/bin/env bash
# usage: tools/devpack.sh PATH/device-pack.sh
# Packs .devpack/ for the GPU machine with the project's device-pack.sh (it lives in the project's shared
# tools, outside this repository, so its path is an argument), then slims its node_modules so the
# whole carry stays under the 64 MiB limit: prebuilt Dawn binaries for other platforms, source maps,
# type declarations, tfjs tests and browser bundles are not needed by Node on linux-x64.
set -euo pipefail
pack="$(realpath "${1:?usage: tools/devpack.sh PATH/device-pack.sh}")"
root=$(git rev-parse --show-toplevel)
cd "$root"
bash "$pack" >/dev/null
tmp=$(mktemp -d)
tar -xJf .devpack/node_modules.tar.xz -C "$tmp"
nm="$tmp/node_modules"
rm -rf "$nm"/webgpu/dist/{darwin-universal,win32-x64,win32-arm64,linux-arm64} "$nm"/@tensorflow/*/dist/miniprogram
find "$nm" \( -name '*.map' -o -name '*.d.ts' -o -name '*_test.js' -o -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' \) -delete
tar -cJf .devpack/node_modules.tar.xz -C "$tmp" node_modules
rm -rf "$tmp"
# The shared setup.sh locates itself with $0, which is the shell when sourced; BASH_SOURCE is the file.
sed -i 's/dirname "\$0"/dirname "${BASH_SOURCE[0]}"/' .devpack/setup.sh
# Dawn's Vulkan instance finds the NVIDIA ICD only with libglvnd present (seen on the H100 machine:
# "vkCreateInstance: Found no drivers" without it).
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/devpack-apt-lists'
(cd .devpack/debs && apt-get $o download libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 >/dev/null 2>&1)
echo 'export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}' >> .devpack/setup.sh
du -sh .devpack | sed 's/^/devpack total: /'
