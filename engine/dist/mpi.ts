// A binding of the few MPI calls data-parallel training needs, through koffi (a maintained FFI on npm
// whose package ships prebuilt binaries). Loaded only by `--launcher mpi`: single-process runs never
// touch koffi or libmpi.
//
// ABI notes (the reason handles are looked up rather than hard-coded):
// - Open MPI: MPI_Comm / MPI_Datatype / MPI_Op are pointers; MPI_COMM_WORLD, MPI_FLOAT and MPI_SUM are
//   the addresses of the exported globals ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum
//   (mpi.h: OMPI_PREDEFINED_GLOBAL). Tested here with Debian's Open MPI 4.1 (libmpi.so.40).
// - MPICH (and its ABI family: Intel MPI, MVAPICH): handles are 32-bit ints with fixed values from
//   mpich's mpi.h (MPI_COMM_WORLD 0x44000000, MPI_FLOAT 0x4c00040a, MPI_INT 0x4c000405,
//   MPI_BYTE 0x4c00010d, MPI_SUM 0x58000003). Implemented from those values, not tested here.
// - RTLD_GLOBAL: Open MPI dlopens its MCA components, which in old or some custom builds resolve
//   symbols of libmpi/libopen-pal from the global namespace. Debian's 4.1 works either way (checked),
//   the library is loaded with koffi's `global: true` for the others.
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { UserError } from '../../core/errors';

/** MPI_THREAD_SERIALIZED: the same value (2) in Open MPI and MPICH. Calls come from koffi's worker threads, one at a time. */
const MPI_THREAD_SERIALIZED = 2;

export class MpiError extends UserError {}

/** The MPI communicator of the job (MPI_COMM_WORLD) with the collectives training uses. */
export interface Communicator {
  readonly rank: number;
  readonly size: number;
  /** Rank among the processes of this host (selects the GPU). */
  readonly localRank: number;
  readonly localSize: number;
  /** MPI_Get_library_version's first line, for the log. */
  readonly library: string;
  /**
   * Sum over ranks, in place, on this thread (SyncBN inside a forward/backward pass). Polls a
   * non-blocking all-reduce and, between polls, checks that the ranks on this host are alive: a dead
   * peer throws MpiError at once (a rank blocked in MPI would otherwise never see mpirun's SIGTERM).
   */
  allreduceSumSync(buf: Float32Array): void;
  /** Sum over ranks, in place, on a koffi worker thread so the event loop (signals) stays live. */
  allreduceSum(buf: Float32Array): Promise<void>;
  /** Copies root's bytes into every rank's `buf` (same length on every rank). */
  bcast(buf: Uint8Array | Float32Array | Int32Array, root: number): Promise<void>;
  barrier(): Promise<void>;
  /** One int from every rank, in rank order. */
  allgatherInt(value: number): Promise<Int32Array>;
  /** Every rank's bytes on `root` (rank order); other ranks get null. */
  gatherBytes(bytes: Uint8Array, root: number): Promise<Uint8Array[] | null>;
  /** MPI_Abort on MPI_COMM_WORLD: ends every rank of the job (mpirun reports it). */
  abort(code: number): never;
  finalize(): void;
}

type Fn = ((...args: unknown[]) => number) & { async: (...args: unknown[]) => void };

const CANDIDATES = ['libmpi.so.40', 'libmpi.so.12', 'libmpi.so'];

function callAsync(fn: Fn, name: string, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) =>
    fn.async(...args, (err: unknown, rc: number) => {
      if (err) reject(err as Error);
      else if (rc !== 0) reject(new MpiError(`${name} failed with MPI error code ${rc}`));
      else resolve();
    }),
  );
}

function check(rc: number, name: string): void {
  if (rc !== 0) throw new MpiError(`${name} failed with MPI error code ${rc}`);
}

/** 32-bit FNV-1a of a string (host identity for the local-rank fallback). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * Loads libmpi (TINYVIM_MPI_LIB, else libmpi.so.40 / .12 / libmpi.so), calls MPI_Init_thread and returns
 * MPI_COMM_WORLD. Throws MpiError (one line saying what to install) when koffi or libmpi is missing.
 */
export async function initMpi(): Promise<Communicator> {
  const require = createRequire(import.meta.url);
  let koffi: typeof import('koffi');
  try {
    koffi = require('koffi') as typeof import('koffi');
  } catch (e) {
    throw new MpiError(`--launcher mpi needs the npm package koffi (npm install): ${(e as Error).message.split('\n')[0]}`);
  }
  const names = process.env.TINYVIM_MPI_LIB ? [process.env.TINYVIM_MPI_LIB] : CANDIDATES;
  let lib: ReturnType<typeof koffi.load> | null = null;
  const tried: string[] = [];
  for (const n of names) {
    try {
      lib = koffi.load(n, { global: true });
      break;
    } catch (e) {
      tried.push(`${n} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (!lib) {
    throw new MpiError(
      `--launcher mpi: no MPI library found (tried ${tried.join('; ')}); install Open MPI: apt-get install openmpi-bin libopenmpi-dev ` +
        `(or set TINYVIM_MPI_LIB to your libmpi.so)`,
    );
  }
  let flavour: 'openmpi' | 'mpich';
  let H: string; // handle type in signatures
  let comm: unknown, float: unknown, int: unknown, byte: unknown, sum: unknown;
  try {
    comm = lib.symbol('ompi_mpi_comm_world', koffi.opaque());
    float = lib.symbol('ompi_mpi_float', koffi.opaque());
    int = lib.symbol('ompi_mpi_int', koffi.opaque());
    byte = lib.symbol('ompi_mpi_byte', koffi.opaque());
    sum = lib.symbol('ompi_mpi_op_sum', koffi.opaque());
    flavour = 'openmpi';
    H = 'void *';
  } catch {
    flavour = 'mpich';
    H = 'int';
    comm = 0x44000000;
    float = 0x4c00040a;
    int = 0x4c000405;
    byte = 0x4c00010d;
    sum = 0x58000003;
  }
  const f = (decl: string) => lib!.func(decl.replace(/\bH\b/g, H)) as unknown as Fn;
  const initThread = f('int MPI_Init_thread(void *, void *, int, _Out_ int *)');
  const initialized = f('int MPI_Initialized(_Out_ int *)');
  const commRank = f('int MPI_Comm_rank(H, _Out_ int *)');
  const commSize = f('int MPI_Comm_size(H, _Out_ int *)');
  const allreduce = f('int MPI_Allreduce(void *, void *, int, H, H, H)');
  const bcast = f('int MPI_Bcast(void *, int, H, int, H)');
  const barrier = f('int MPI_Barrier(H)');
  const allgather = f('int MPI_Allgather(void *, int, H, void *, int, H, H)');
  const gatherv = f('int MPI_Gatherv(void *, int, H, void *, int *, int *, H, int, H)');
  const abort = f('int MPI_Abort(H, int)');
  const finalize = f('int MPI_Finalize()');
  const iallreduce = f('int MPI_Iallreduce(void *, void *, int, H, H, H, void *)');
  const test = f('int MPI_Test(void *, _Out_ int *, void *)');
  const libVersion = f('int MPI_Get_library_version(_Out_ uint8_t *, _Out_ int *)');

  const flag = [0];
  check(initialized(flag), 'MPI_Initialized');
  if (!flag[0]) {
    const provided = [0];
    check(initThread(null, null, MPI_THREAD_SERIALIZED, provided), 'MPI_Init_thread');
    if (provided[0] < MPI_THREAD_SERIALIZED) {
      throw new MpiError(`the MPI library provides thread level ${provided[0]} but MPI_THREAD_SERIALIZED (2) is needed (collectives run on a helper thread)`);
    }
  }
  const r = [0];
  const n = [0];
  check(commRank(comm, r), 'MPI_Comm_rank');
  check(commSize(comm, n), 'MPI_Comm_size');
  const vbuf = new Uint8Array(8192);
  const vlen = [0];
  libVersion(vbuf, vlen);
  const library = `${flavour}: ${Buffer.from(vbuf.subarray(0, vlen[0])).toString('latin1').split('\n')[0].trim()}`;
  const rank = r[0];
  const size = n[0];

  const allgatherInt = async (value: number): Promise<Int32Array> => {
    const out = new Int32Array(size);
    await callAsync(allgather, 'MPI_Allgather', Int32Array.of(value), 1, int, out, 1, int, comm);
    return out;
  };

  // Local rank: the launcher's variable when there is one, else ranks on the same host name counted.
  const envLocal = process.env.OMPI_COMM_WORLD_LOCAL_RANK ?? process.env.MPI_LOCALRANKID ?? process.env.PMI_LOCAL_RANK;
  const hosts = await allgatherInt(fnv1a(hostname()));
  const mine = hosts[rank];
  const envSize = process.env.OMPI_COMM_WORLD_LOCAL_SIZE ?? process.env.MPI_LOCALNRANKS;
  const localSize = envSize !== undefined ? Number(envSize) : hosts.filter((h) => h === mine).length;
  const localRank = envLocal !== undefined ? Number(envLocal) : hosts.subarray(0, rank).filter((h) => h === mine).length;
  const pids = await allgatherInt(process.pid);
  const localPeers = Array.from(pids, (pid, r) => ({ pid, r })).filter(({ r }) => r !== rank && hosts[r] === mine);
  const deadPeer = (): { pid: number; r: number } | undefined =>
    localPeers.find(({ pid }) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    });
  // MPI_Request (a pointer in Open MPI, an int in MPICH) and MPI_Status storage, opaque to us.
  const request = new Uint8Array(8);
  const status = new Uint8Array(256);
  const done = [0];

  return {
    rank,
    size,
    localRank,
    localSize,
    library,
    allreduceSumSync(buf) {
      const send = Float32Array.from(buf);
      check(iallreduce(send, buf, buf.length, float, sum, comm, request), 'MPI_Iallreduce');
      let next = performance.now() + 100;
      for (;;) {
        check(test(request, done, status), 'MPI_Test');
        if (done[0]) return;
        if (performance.now() > next) {
          const dead = deadPeer();
          if (dead) throw new MpiError(`rank ${dead.r} (pid ${dead.pid}, this host) ended during an all-reduce; the job cannot continue`);
          next = performance.now() + 100;
        }
      }
    },
    async allreduceSum(buf) {
      const send = Float32Array.from(buf);
      await callAsync(allreduce, 'MPI_Allreduce', send, buf, buf.length, float, sum, comm);
    },
    async bcast(buf, root) {
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      await callAsync(bcast, 'MPI_Bcast', bytes, bytes.length, byte, root, comm);
    },
    async barrier() {
      await callAsync(barrier, 'MPI_Barrier', comm);
    },
    allgatherInt,
    async gatherBytes(bytes, root) {
      const counts = await allgatherInt(bytes.length);
      const displs = new Int32Array(size);
      for (let i = 1; i < size; i++) displs[i] = displs[i - 1] + counts[i - 1];
      const total = displs[size - 1] + counts[size - 1];
      const recv = new Uint8Array(rank === root ? Math.max(total, 1) : 1);
      await callAsync(gatherv, 'MPI_Gatherv', bytes.length ? bytes : new Uint8Array(1), bytes.length, byte, recv, counts, displs, byte, root, comm);
      if (rank !== root) return null;
      return Array.from(counts, (c, i) => recv.slice(displs[i], displs[i] + c));
    },
    abort(code) {
      abort(comm, code);
      process.exit(code);
    },
    finalize() {
      check(finalize(), 'MPI_Finalize');
    },
  };
}
