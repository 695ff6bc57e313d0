import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from './ops/wasm_grad_kernels';
registerWasmGradKernels();
async function time(name: string, f: () => tf.Tensor | tf.Tensor[], reps = 5) {
  tf.dispose(f()); tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { const r = f(); const arr = Array.isArray(r) ? r : [r]; for (const x of arr) await x.data(); tf.dispose(r); }
  console.log(`${tf.getBackend()} ${name}: ${((performance.now() - t0) / reps).toFixed(1)} ms`);
}
const be = process.argv[2];
await tf.setBackend(be);
const reps = be === 'cpu' ? 1 : 5;
const x = tf.randomNormal([8, 56, 56, 64]); const dy = tf.randomNormal([8, 56, 56, 64]);
await time('Conv2DBackpropFilter 3x3 s1 [8,56,56,64]->64 (1.85 GFLOP)', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 64, 64] } as never) as tf.Tensor, reps);
const xd = tf.randomNormal([8, 56, 56, 192]); const wd = tf.randomNormal([3, 3, 192, 1]); const dyd = tf.randomNormal([8, 56, 56, 192]);
await time('DWBackpropFilter 3x3 [8,56,56,192]', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xd, dy: dyd }, { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 192, 1] } as never) as tf.Tensor, reps);
await time('DWBackpropInput 3x3 [8,56,56,192]', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyd, filter: wd }, { strides: 1, dilations: 1, pad: 'same', inputShape: [8, 56, 56, 192] } as never) as tf.Tensor, reps);
if (be === 'wasm') {
  const a = tf.randomNormal([1024, 1024]); const b = tf.randomNormal([1024, 1024]);
  await time('matMul 1024^3 forward+backward (gradient with explicit transposes)', () => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p, q)))([a, b]));
  await time('matMul 1024^3 with transposeB flag', () => tf.matMul(a, b, false, true));
  await time('matMul 1024^3 plain', () => tf.matMul(a, b));
}
