import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '/work/main/ops/wasm_grad_kernels';
registerWasmGradKernels();
async function time(name: string, f: () => tf.Tensor | tf.Tensor[], reps = 5) {
  tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { const r = f(); const arr = Array.isArray(r) ? r : [r]; for (const x of arr) await x.data(); tf.dispose(r); }
  const ms = (performance.now() - t0) / reps;
  console.log(`${tf.getBackend()} ${name}: ${ms.toFixed(1)} ms`);
  return ms;
}
for (const be of ['wasm', 'cpu']) {
  await tf.setBackend(be);
  const x = tf.randomNormal([8, 56, 56, 64]); const w = tf.randomNormal([3, 3, 64, 64]);
  const dy = tf.randomNormal([8, 56, 56, 64]);
  await time('Conv2DBackpropFilter 3x3 [8,56,56,64]->64', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 64, 64] } as never) as tf.Tensor, be === 'cpu' ? 1 : 5);
  const xd = tf.randomNormal([8, 56, 56, 192]); const wd = tf.randomNormal([3, 3, 192, 1]); const dyd = tf.randomNormal([8, 56, 56, 192]);
  await time('DWBackpropFilter 3x3 [8,56,56,192]', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xd, dy: dyd }, { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 192, 1] } as never) as tf.Tensor, be === 'cpu' ? 1 : 5);
  await time('DWBackpropInput 3x3 [8,56,56,192]', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyd, filter: wd }, { strides: 1, dilations: 1, pad: 'same', inputShape: [8, 56, 56, 192] } as never) as tf.Tensor, be === 'cpu' ? 1 : 5);
  tf.dispose([x, w, dy, xd, wd, dyd]);
}
await tf.setBackend('wasm');
const a = tf.randomNormal([1024, 1024]); const b = tf.randomNormal([1024, 1024]);
const gradOf = () => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p, q)))([a, b]);
await time('matMul 1024^3 fwd+bwd, explicit-transpose gradient', gradOf);
await time('matMul 1024^3 with transposeB flag', () => tf.matMul(a, b, false, true));
await time('matMul 1024^3 plain', () => tf.matMul(a, b));
