import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
const x0 = Array.from({ length: 16 }, (_, i) => Math.sin(i));
const w0 = Array.from({ length: 64 }, (_, i) => Math.cos(i * 0.7));
for (const b of ['cpu', 'wasm']) {
  await tf.setBackend(b);
  const x = tf.tensor4d(x0, [1, 4, 4, 1]); const wt = tf.tensor4d(w0, [1, 8, 8, 1]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, [8, 8], false, true), wt)))(x);
  console.log(b, Array.from(g.dataSync()).map((v) => v.toFixed(3)).join(' '));
}
await tf.setBackend('cpu');
const wt = tf.tensor4d(w0, [1, 8, 8, 1]);
const ref = Array.from({ length: 16 }, (_, j) => { const e = new Float32Array(16); e[j] = 1; return tf.sum(tf.mul(tf.image.resizeBilinear(tf.tensor4d(e, [1, 4, 4, 1]), [8, 8], false, true), wt)).dataSync()[0]; });
console.log('ref', ref.map((v) => v.toFixed(3)).join(' '));
for (const b of ['cpu', 'wasm']) {
  await tf.setBackend(b);
  const x = tf.tensor4d(Array.from({ length: 12 }, (_, i) => i), [1, 3, 4, 1]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.image.resizeBilinear(t as tf.Tensor4D, [7, 5], false, true)))(x);
  console.log(b, 'nonsquare', g.shape, Array.from(g.dataSync()).map((v) => v.toFixed(3)).join(' '));
}
await tf.setBackend('cpu');
const refNS = Array.from({ length: 12 }, (_, j) => { const e = new Float32Array(12); e[j] = 1; return tf.sum(tf.image.resizeBilinear(tf.tensor4d(e, [1, 3, 4, 1]), [7, 5], false, true)).dataSync()[0]; });
console.log('refNS', refNS.map((v) => v.toFixed(3)).join(' '));
