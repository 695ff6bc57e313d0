// Start and end of a data-parallel job for the CLIs: MPI initialisation, GPU choice, failure
// handling (one clear line on every rank, then the whole job ends), and the closing barrier.
import { hostname } from 'node:os';
import { UserError } from '../../core/errors';
import type { LogSink } from '../log_writer';
import { DistContext } from './context';
import { describeWebgpuAdapter, hasMesaDeviceSelect, selectGpuForRank } from './gpu_select';
import { initMpi } from './mpi';

export const LAUNCHERS = ['none', 'mpi'] as const;
export type Launcher = (typeof LAUNCHERS)[number];

/** Ranks other than 0 log nothing (mmcv: only the master process logs). */
export class SilentLogSink implements LogSink {
  info(): void {}
  json(): void {}
  progress(): void {}
}

/**
 * Joins the MPI job (`--launcher mpi`): MPI_Init, SyncBN group, and handlers so that when mpirun
 * ends this rank because another one failed (SIGTERM), the rank says so in one line. Returns null
 * for `none`. `backend` is the --backend request: for webgpu/auto the rank's GPU is chosen here,
 * before any Vulkan instance exists.
 */
export async function startJob(launcher: Launcher, backend: string, hint: () => string): Promise<DistContext | null> {
  if (launcher === 'none') return null;
  const comm = await initMpi();
  const ctx = new DistContext(comm);
  ctx.enableSyncBn();
  const who = `rank ${comm.rank}/${comm.size}`;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nerror (${who}): ended by ${sig} from the launcher: another rank failed or the job was cancelled; ${hint()}\n`);
      process.exit(1);
    });
  }
  console.log(`${who}: host ${hostname()}, local rank ${comm.localRank}/${comm.localSize}, pid ${process.pid}`);
  if (backend === 'webgpu' || backend === 'auto') console.log(`${who}: ${selectGpuForRank(comm.localRank, comm.localSize).note}`);
  if (comm.rank === 0) console.log(`MPI job of ${comm.size} ranks (${comm.library})`);
  return ctx;
}

/** Prints which adapter this rank's webgpu backend got (after setupBackend), and warns without Mesa's layer. */
export async function reportAdapter(ctx: DistContext | null, backend: string): Promise<void> {
  if (!ctx || backend !== 'webgpu') return;
  const who = `rank ${ctx.rank}/${ctx.worldSize}`;
  console.log(`${who}: webgpu adapter ${await describeWebgpuAdapter()}${process.env.DRI_PRIME ? ` (DRI_PRIME=${process.env.DRI_PRIME})` : ''}`);
  if (ctx.comm.localSize > 1 && !hasMesaDeviceSelect()) {
    console.log(`${who}: warning: Mesa's Vulkan device-select layer is not installed (apt-get install mesa-vulkan-drivers); ranks of this host may share one GPU`);
  }
}

/**
 * Runs `main` as one rank of the job: an error prints one line naming the rank and aborts the job
 * (MPI_Abort), so the other ranks do not wait forever in a collective. On success all ranks meet at
 * a barrier and MPI is finalised.
 */
export async function runAsRank<T>(ctx: DistContext | null, hint: () => string, main: () => Promise<T>): Promise<T> {
  if (!ctx) return main();
  let out!: T;
  try {
    out = await main();
  } catch (e) {
    const err = e as Error;
    const msg = e instanceof UserError ? err.message : (err?.stack ?? String(e));
    process.stderr.write(`\nerror (rank ${ctx.rank}/${ctx.worldSize}): ${msg}\n${hint()}\n`);
    ctx.comm.abort(e instanceof UserError ? 1 : 2);
  }
  await endJob(ctx);
  return out;
}

/** All ranks meet at a barrier, then MPI is finalised (no-op without a job). */
export async function endJob(ctx: DistContext | null): Promise<void> {
  if (!ctx) return;
  await ctx.comm.barrier();
  ctx.comm.finalize();
}
