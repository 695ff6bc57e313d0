// Distributed samplers, result interleaving, GPU choice and the missing-MPI error: no MPI needed.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interleaveResults } from '../engine/dist/context';
import { driPrimeTag, selectGpuForRank } from '../engine/dist/gpu_select';
import { initMpi } from '../engine/dist/mpi';
import { DistributedGroupSampler, DistributedSampler, groupedOrder } from '../engine/dist/sampler';
import { epochOrder } from '../datasets/loader';

describe('DistributedSampler', () => {
  it('with one rank is the single-process epoch order', () => {
    const s = new DistributedSampler(23, { rank: 0, worldSize: 1, shuffle: true, seed: 4 });
    expect(Array.from(s.indices(3))).toEqual(Array.from(epochOrder(23, true, 4, 3)));
  });

  it('N ranks x batch B together hold the one-process batches of N*B, padded with the head of the order', () => {
    const n = 21;
    const [N, B] = [4, 2];
    const ranks = Array.from({ length: N }, (_, r) => new DistributedSampler(n, { rank: r, worldSize: N, shuffle: true, seed: 1 }).indices(2));
    expect(ranks.every((r) => r.length === Math.ceil(n / N))).toBe(true);
    const global = epochOrder(n, true, 1, 2);
    const padded = [...global, ...global.slice(0, N * ranks[0].length - n)];
    for (let b = 0; b < ranks[0].length / B; b++) {
      const together = ranks.flatMap((r) => Array.from(r.slice(b * B, (b + 1) * B))).sort((x, y) => x - y);
      expect(together).toEqual(padded.slice(b * N * B, (b + 1) * N * B).sort((x, y) => x - y));
    }
    // A different epoch reshuffles; the same epoch is reproducible.
    const s0 = new DistributedSampler(n, { rank: 0, worldSize: N, shuffle: true, seed: 1 });
    expect(Array.from(s0.indices(2))).toEqual(Array.from(ranks[0]));
    expect(Array.from(s0.indices(5))).not.toEqual(Array.from(ranks[0]));
  });

  it('rejects an invalid rank', () => {
    expect(() => new DistributedSampler(10, { rank: 2, worldSize: 2, shuffle: false, seed: 0 })).toThrow(/rank 2 of world size 2/);
  });
});

describe('DistributedGroupSampler', () => {
  const flags = Uint8Array.from({ length: 37 }, (_, i) => (i % 3 === 0 ? 1 : 0));

  it('every per-rank batch holds one aspect group, ranks cover every sample and have equal length', () => {
    const [N, B] = [2, 3];
    const samplers = [0, 1].map((r) => new DistributedGroupSampler(flags, B, { rank: r, worldSize: N, seed: 9 }));
    expect(samplers[0].length).toBe(samplers[1].length);
    expect(samplers[0].length % B).toBe(0);
    const seen = new Set<number>();
    for (const s of samplers) {
      const idx = s.indices(1);
      expect(idx.length).toBe(s.length);
      for (let b = 0; b < idx.length; b += B) {
        const groups = new Set(Array.from(idx.slice(b, b + B), (i) => flags[i]));
        expect(groups.size).toBe(1);
      }
      idx.forEach((i) => seen.add(i));
    }
    expect(seen.size).toBe(flags.length);
  });

  it('one rank is the single-process grouped order (shared with GroupSampler)', () => {
    const s = new DistributedGroupSampler(flags, 2, { rank: 0, worldSize: 1, seed: 3 });
    expect(Array.from(s.indices(0))).toEqual(Array.from(groupedOrder(flags, 2, 1, 3, 0)));
  });
});

describe('distributed evaluation order', () => {
  it('interleaveResults inverts DistributedSampler(shuffle=false) and drops the padding', () => {
    const n = 7;
    const N = 3;
    const perRank = Array.from({ length: N }, (_, r) => Array.from(new DistributedSampler(n, { rank: r, worldSize: N, shuffle: false, seed: 0 }).indices(0)));
    expect(interleaveResults(perRank, n)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('GPU per rank', () => {
  function fakeSysfs(): string {
    const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
    const dev = (id: string, cls: string, driver: string | null) => {
      mkdirSync(join(root, 'devices', id), { recursive: true });
      writeFileSync(join(root, 'devices', id, 'class'), `${cls}\n`);
      if (driver) {
        mkdirSync(join(root, 'drivers', driver), { recursive: true });
        symlinkSync(join(root, 'drivers', driver), join(root, 'devices', id, 'driver'));
      }
    };
    dev('0000:9a:00.0', '0x030200', 'nvidia');
    dev('0000:1b:00.0', '0x030200', 'nvidia');
    dev('0000:03:00.0', '0x030000', 'ast'); // BMC display adapter: not a GPU to train on
    dev('0000:00:1f.0', '0x060100', null);
    return join(root, 'devices');
  }

  it('local rank i gets the i-th GPU by PCI bus id through DRI_PRIME', () => {
    const sysfs = fakeSysfs();
    const env: NodeJS.ProcessEnv = {};
    const c = selectGpuForRank(1, 2, env, sysfs);
    expect(c.pciId).toBe('0000:9a:00.0');
    expect(env.DRI_PRIME).toBe('pci-0000_9a_00_0');
    expect(env.MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE).toBe('1');
    expect(() => selectGpuForRank(0, 3, {}, sysfs)).toThrow(/3 ranks on this host but 2 GPU/);
    expect(selectGpuForRank(0, 1, { TINYVIM_GPU_PCI_IDS: '0000:aa:00.0' }, sysfs).pciId).toBe('0000:aa:00.0');
    expect(driPrimeTag('0000:1B:00.0')).toBe('pci-0000_1b_00_0');
  });
});

describe('MPI library', () => {
  it('a missing libmpi is one error naming the packages to install', async () => {
    const saved = process.env.TINYVIM_MPI_LIB;
    process.env.TINYVIM_MPI_LIB = '/nonexistent/libmpi.so';
    try {
      await expect(initMpi()).rejects.toThrow(/apt-get install openmpi-bin libopenmpi-dev/);
    } finally {
      if (saved === undefined) delete process.env.TINYVIM_MPI_LIB;
      else process.env.TINYVIM_MPI_LIB = saved;
    }
  });
});
