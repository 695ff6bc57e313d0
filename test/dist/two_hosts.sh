#!/usr/bin/env bash
# Two "hosts" on one machine: network namespaces tvA and tvB joined by a bridge (10.77.0.0/24), one
# rank in each, launched by mpirun through test/dist/netns_rsh instead of ssh, talking over TCP only.
# The work dir is shared (as a shared filesystem would be). Needs root (ip netns).
#   test/dist/two_hosts.sh WORK_DIR [tools/train options]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$1
shift
cleanup() {
  ip netns del tvA 2>/dev/null || true
  ip netns del tvB 2>/dev/null || true
  ip link del tvbr0 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip link add tvbr0 type bridge
ip addr add 10.77.0.1/24 dev tvbr0
ip link set tvbr0 up
n=2
for h in tvA tvB; do
  ip netns add $h
  ip link add "v$h" type veth peer name eth0 netns $h
  ip link set "v$h" master tvbr0 up
  ip -n $h addr add 10.77.0.$n/24 dev eth0
  ip -n $h link set eth0 up
  ip -n $h link set lo up
  n=$((n + 1))
done
printf 'tvA slots=1\ntvB slots=1\n' > "$work.hosts"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np 2 --hostfile "$work.hosts" --map-by node \
  --mca plm_rsh_agent "$PWD/test/dist/netns_rsh" \
  --mca oob_tcp_if_include 10.77.0.0/24 --mca btl_tcp_if_include 10.77.0.0/24 --mca btl tcp,self \
  -x PATH -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM --wdir "$PWD" \
  tools/train --launcher mpi --backend cpu --work-dir "$work" "$@"
