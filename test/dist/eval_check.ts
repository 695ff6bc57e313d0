// Run under `mpirun -np 2` by test/dist_train.test.ts: distributed prediction of the toy model over
// 33 samples (padded to 34 across 2 ranks) against the single-process inference. Rank 0 prints.
import * as tf from '@tensorflow/tfjs';
import type { Evaluator } from '../../core/registry';
import { DistContext } from '../../engine/dist/context';
import { initMpi } from '../../engine/dist/mpi';
import { evalLoader, inferenceOnDataset } from '../../engine/evaluate';
import { setInitSeed } from '../../nn/init';
import { ToyAccuracyEvaluator, ToyClassifier, ToyDataset, type ToyBatch } from '../helpers/toy';

await tf.setBackend('cpu');
const comm = await initMpi();
const ctx = new DistContext(comm);
setInitSeed(5);
const model = new ToyClassifier(8, 4);
await ctx.broadcastModule(model.module);
const data = new ToyDataset(33, 8, 2);
// A model whose prediction names its sample (sum of the image's pixels): the gathered order is checked exactly.
const probe = {
  module: model.module,
  forwardTrain: model.forwardTrain.bind(model),
  predict: (b: ToyBatch) => Array.from(tf.tidy(() => tf.sum(b.images, [1, 2, 3])).dataSync()),
};
const gathered = await ctx.predictAll(probe, data);
const metrics = await ctx.evaluate(model, data, new ToyAccuracyEvaluator(data, ['accuracy']));
if (comm.rank === 0) {
  const single = await inferenceOnDataset(model, evalLoader(data), new ToyAccuracyEvaluator(data, ['accuracy']));
  const order: number[] = [];
  const collect: Evaluator<ToyBatch, number> = { reset: () => {}, process: (_b, o) => void order.push(...o), evaluate: () => ({ metrics: {}, text: '' }) };
  await inferenceOnDataset(probe, evalLoader(data), collect);
  console.log(`EVAL ${JSON.stringify({ gathered: gathered!.map((g) => g.out), single: order, metrics, singleMetrics: single.metrics })}`);
}
await comm.barrier();
comm.finalize();
