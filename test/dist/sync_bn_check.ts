// Run under `mpirun -np 2` by test/dist_train.test.ts: SyncBatchNorm2d on each rank's half of a batch
// against BatchNorm2d on the whole batch (computed on every rank). Prints one JSON line per rank.
import * as tf from '@tensorflow/tfjs';
import { DistContext } from '../../engine/dist/context';
import { initMpi } from '../../engine/dist/mpi';
import { BatchNorm2d } from '../../nn/layers';
import { SyncBatchNorm2d } from '../../nn/sync_bn';

await tf.setBackend('cpu');
const comm = await initMpi();
const ctx = new DistContext(comm);
ctx.enableSyncBn();
const [N, H, W, C] = [4, 3, 5, 6];
const per = N / comm.size;
// Same data on every rank (fixed seeds): x and the upstream gradient c of loss = sum(y * c).
const x = tf.randomNormal([N, H, W, C], 1.5, 2, 'float32', 7) as tf.Tensor4D;
const c = tf.randomNormal([N, H, W, C], 0, 1, 'float32', 8);
const lo = comm.rank * per;
const slice = (t: tf.Tensor) => tf.slice(t, [lo, 0, 0, 0], [per, H, W, C]);

function run(bn: BatchNorm2d, input: tf.Tensor4D, up: tf.Tensor) {
  return tf.tidy(() => {
    const f = (xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn.forward(xi as tf.Tensor4D), up));
    bn.weight.assign(tf.linspace(0.5, 1.5, C));
    bn.bias.assign(tf.linspace(-0.2, 0.3, C));
    const y = bn.forward(input);
    const { grads } = tf.variableGrads(() => f(input, bn.weight, bn.bias) as tf.Scalar, [bn.weight, bn.bias]);
    const dx = tf.grad((xi: tf.Tensor) => f(xi, bn.weight, bn.bias))(input);
    return { y, dx, dw: grads[bn.weight.name], db: grads[bn.bias.name] };
  });
}

const sync = new SyncBatchNorm2d(C);
const mine = run(sync, slice(x) as tf.Tensor4D, slice(c));
const ref = run(new BatchNorm2d(C), x, c);
const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
// Weight/bias gradients are local sums: their sum over ranks is the whole-batch gradient.
const dwb = Float32Array.from([...mine.dw.dataSync(), ...mine.db.dataSync()]);
comm.allreduceSumSync(dwb);
const refWb = Float32Array.from([...ref.dw.dataSync(), ...ref.db.dataSync()]);
// The module's BN runs twice (forward + grad) and the reference too: running stats must agree.
const out = {
  rank: comm.rank,
  y: diff(mine.y, slice(ref.y)),
  dx: diff(mine.dx, slice(ref.dx)),
  dwb: Math.max(...dwb.map((v, i) => Math.abs(v - refWb[i]))),
  running_var: 0,
};
const refBn = new BatchNorm2d(C);
run(refBn, x, c);
out.running_var = diff(sync.runningVar, refBn.runningVar);
console.log(`SYNCBN ${JSON.stringify(out)}`);
await comm.barrier();
comm.finalize();
