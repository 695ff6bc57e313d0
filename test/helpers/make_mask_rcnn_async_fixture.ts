// Writes test/fixtures/mask_rcnn_async/tiny_trained.safetensors: the tiny Mask R-CNN of
// helpers/mask_rcnn_tiny.ts trained for 150 Adam steps on its in-memory shapes (wasm backend, init seed 1),
// so its scores are well separated (backend comparisons then keep the same detections).
//   node --import tsx test/helpers/make_mask_rcnn_async_fixture.ts
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '../../ops/wasm_grad_kernels';
import { buildMaskRCNN } from '../../models/mask_rcnn_builder';
import { saveCheckpoint } from '../../checkpoint';
import { setInitSeed } from '../../nn/init';
import { registerTinyBackbone, tinyBatch, tinyMaskRcnnConfig } from './mask_rcnn_tiny';

registerWasmGradKernels();
await tf.setBackend('wasm');
registerTinyBackbone();
setInitSeed(1);
const model = buildMaskRCNN(tinyMaskRcnnConfig());
const opt = tf.train.adam(2e-3);
const steps = 150;
for (let it = 0; it < steps; it++) {
  const batch = tinyBatch(it % 5);
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const l = model.forwardTrain(batch);
      return tf.addN(Object.entries(l).filter(([k]) => k.includes('loss')).map(([, v]) => v)) as tf.Scalar;
    });
    opt.applyGradients(grads as tf.NamedTensorMap as never);
    return value.dataSync()[0];
  });
  if (it % 25 === 24) console.log(`step ${it + 1}: loss ${loss.toFixed(3)}`);
}
const out = 'test/fixtures/mask_rcnn_async/tiny_trained.safetensors';
await saveCheckpoint(out, model.module, null, { iter: steps, epoch: 0, inner_iter: steps });
console.log(`wrote ${out}`);
