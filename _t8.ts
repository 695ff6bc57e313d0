import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from './ops/wasm_grad_kernels';
import { TinyViM } from './backbones';
import { FPN } from './necks/fpn';
import { FPNHead } from './heads/seg/fpn_head';
registerWasmGradKernels();
await tf.setBackend('wasm');
const S = 128, B = 4, NC = Number(process.env.NC ?? 128), HC = Number(process.env.HC ?? 64);
const bb = new TinyViM({ layers: [3, 3, 9, 6], embed_dims: [48, 64, 168, 224], fork_feat: true });
const neck = new FPN({ in_channels: [48, 64, 168, 224], out_channels: NC, num_outs: 4 });
const head = new FPNHead({ in_channels: [NC, NC, NC, NC], feature_strides: [4, 8, 16, 32], channels: HC, num_classes: 5 });
const x = tf.randomNormal([B, S, S, 3]) as tf.Tensor4D;
const feats = tf.tidy(() => bb.forwardFeatures(x));
const time = (name: string, f: () => tf.Scalar) => {
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    tf.tidy(() => { const r = tf.variableGrads(f); Object.values(r.grads).forEach((g) => g.dataSync()); });
    if (i > 0) console.log(name, ((performance.now() - t) / 1000).toFixed(2));
  }
};
time('backbone', () => tf.addN(bb.forwardFeatures(x).map((f) => tf.mean(f))) as tf.Scalar);
time('neck+head', () => tf.mean(head.forward(neck.forward(feats))) as tf.Scalar);
time('backbone fwd only', () => { const f = tf.tidy(() => bb.forwardFeatures(x)); return tf.mean(tf.mul(f[0], 0)) as tf.Scalar; });
