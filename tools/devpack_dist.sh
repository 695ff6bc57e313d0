#!/usr/bin/env bash
# Adds what a multi-GPU (MPI) run needs on the GPU machine to .devpack/ (made first by tools/devpack.sh):
# Debian 12's Open MPI 4.1 runtime (mpirun, libmpi.so.40 and the libraries it loads) and Mesa's Vulkan
# device-select layer (which gives each rank its own GPU: engine/dist/gpu_select.ts), unpacked on the
# device under /tmp/distlibs, never into / (the image's own libraries stay untouched). About 6 MB.
# On the GPU machine, after `source .devpack/setup.sh`: `source .devpack/dist_setup.sh`.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
[ -f .devpack/setup.sh ] || { echo "tools/devpack_dist.sh: run tools/devpack.sh first (.devpack/setup.sh is missing)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/devpack-apt-lists'
mkdir -p /tmp/devpack-apt-lists/partial
apt-get $o update >/dev/null 2>&1 || true
# Open MPI's runtime closure, minus what every Linux image has (libc, libgcc, zlib, udev) and minus
# hwloc's optional plugins (they pull in X11 and ICU); then the device-select layer and its libraries.
pkgs="libopenmpi3 openmpi-bin openmpi-common libevent-core-2.1-7 libevent-pthreads-2.1-7 libfabric1 libhwloc15
  libpmix2 libibverbs1 ibverbs-providers libnl-3-200 libnl-route-3-200 libpsm-infinipath1 libpsm2-2 librdmacm1
  libucx0 libnuma1 libmunge2 libatomic1
  mesa-vulkan-drivers libxcb-dri3-0 libwayland-client0 libdrm2 libdrm-common libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libffi8"
(cd "$tmp" && apt-get $o download $pkgs >/dev/null 2>&1)
mkdir -p "$tmp/stage" "$tmp/mesa"
for f in "$tmp"/*.deb; do
  case "$(basename "$f")" in
    mesa-vulkan-drivers_*) dpkg -x "$f" "$tmp/mesa" ;;
    *) dpkg -x "$f" "$tmp/stage" ;;
  esac
done
# From Mesa only the device-select layer (the drivers would need LLVM, 25 MB more, and are not used).
install -D "$tmp/mesa/usr/lib/x86_64-linux-gnu/libVkLayer_MESA_device_select.so" "$tmp/stage/usr/lib/x86_64-linux-gnu/libVkLayer_MESA_device_select.so"
install -D "$tmp/mesa/usr/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json" "$tmp/stage/usr/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json"
rm -rf "$tmp"/stage/usr/share/{doc,man,lintian,locale}
tar -cJf .devpack/dist_libs.tar.xz -C "$tmp/stage" .
# koffi (the FFI the MPI binding loads), linux-x64 binary only, unpacked into node_modules on the device:
# a .devpack made before koffi became a dependency lacks it.
mkdir -p "$tmp/mods/node_modules"
cp -a node_modules/koffi "$tmp/mods/node_modules/"
find "$tmp/mods/node_modules/koffi/build/koffi" -mindepth 1 -maxdepth 1 ! -name linux_x64 -exec rm -rf {} +
tar -cJf .devpack/dist_modules.tar.xz -C "$tmp/mods" node_modules
cat > .devpack/dist_setup.sh <<'SETUP'
#!/usr/bin/env bash
# On the GPU machine, after setup.sh: Open MPI relocated to /tmp/distlibs (OPAL_PREFIX), and the Mesa
# device-select layer found through XDG_DATA_DIRS (the Vulkan loader's implicit-layer search path).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p /tmp/distlibs && tar -xJf "$here/dist_libs.tar.xz" -C /tmp/distlibs
export OPAL_PREFIX=/tmp/distlibs/usr
export LD_LIBRARY_PATH=/tmp/distlibs/usr/lib/x86_64-linux-gnu:/tmp/distlibs/usr/lib/x86_64-linux-gnu/openmpi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_DATA_DIRS=/tmp/distlibs/usr/share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}
export PATH=/tmp/distlibs/usr/bin:$PATH
[ -e /tmp/distlibs/usr/bin/mpirun ] || ln -s orterun /tmp/distlibs/usr/bin/mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -d node_modules/koffi ] || tar -xJf "$here/dist_modules.tar.xz"
SETUP
chmod +x .devpack/dist_setup.sh
du -sh .devpack/dist_libs.tar.xz .devpack/dist_modules.tar.xz | sed 's/^/packed: /'
