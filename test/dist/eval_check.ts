// Run under `mpirun -np 2` by test/dist_train.test.ts: distributed prediction of the toy model over
// 33 samples (padded to 34 across 2 ranks) against the single-process predictAll. Rank 0 prints.
import * as tf from '@tensorflow/tfjs';
import { DistContext } from '../../engine/dist/context';
import { initMpi } from '../../engine/dist/mpi';
import { evaluateModel } from '../../engine/evaluate';
import { setInitSeed } from '../../nn/init';
import { ToyClassifier, ToyDataset } from '../helpers/toy';

await tf.setBackend('cpu');
const comm = await initMpi();
const ctx = new DistContext(comm);
setInitSeed(5);
const model = new ToyClassifier(8, 4);
await ctx.broadcastModule(model.module);
const data = new ToyDataset(33, 8, 2);
// A model whose prediction names its sample (sum of the image's pixels): the gathered order is checked exactly.
const probe = { module: model.module, forwardTrain: model.forwardTrain.bind(model), predict: (b: { images: tf.Tensor4D }) => Array.from(tf.tidy(() => tf.sum(b.images, [1, 2, 3])).dataSync()) };
const gathered = await ctx.predictAll(probe, data);
const metrics = await ctx.evaluate(model, data, { metric: ['accuracy'] });
if (comm.rank === 0) {
  const single = await evaluateModel(model, data, { metric: ['accuracy'] });
  const order = await evaluateModel(probe, { length: data.length, loader: (o) => data.loader(o), evaluate: () => ({}) }, { metric: [] });
  console.log(`EVAL ${JSON.stringify({ gathered, single: order.results, metrics, singleMetrics: single.metrics })}`);
}
await comm.barrier();
comm.finalize();
