import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MODELS } from './core/registry';
import './models/seg_builder';
import type { EncoderDecoder } from './models/encoder_decoder';
import { registerWasmGradKernels } from './ops/wasm_grad_kernels';
registerWasmGradKernels();
import { stateDict } from './nn/state_dict';
await tf.setBackend('wasm');
const model = MODELS.build({ type: 'EncoderDecoder', backbone: { type: 'TinyViM_S', fork_feat: true }, neck: { type: 'FPN', in_channels: [48, 64, 168, 224], out_channels: Number(process.env.NC ?? 256), num_outs: 4 },
  decode_head: { type: 'FPNHead', in_channels: Array(4).fill(Number(process.env.NC ?? 256)), in_index: [0, 1, 2, 3], feature_strides: [4, 8, 16, 32], channels: Number(process.env.HC ?? 128), dropout_ratio: 0.1, num_classes: 150, norm_cfg: { type: 'SyncBN', requires_grad: true }, align_corners: false, loss_decode: { type: 'CrossEntropyLoss', use_sigmoid: false, loss_weight: 1.0 } } }, undefined) as unknown as EncoderDecoder;
const keys = [...stateDict(model.module).keys()];
console.log(keys.filter((k) => !k.startsWith('backbone')).join(' '));
console.log('params', model.module.numParameters());
const S = Number(process.argv[2] ?? 128), B = Number(process.argv[3] ?? 2);
const batch = { kind: 'seg' as const, data: new Float32Array(B * S * S * 3).map(() => Math.random()), shape: [B, S, S, 3] as [number, number, number, number], metas: [] as any[], gt_semantic_seg: new Uint8Array(B * S * S).map(() => Math.floor(Math.random() * 150)) };
const opt = tf.train.sgd(0.01);
for (let it = 0; it < 3; it++) {
  const t0 = performance.now();
  const before = tf.memory().numTensors;
  let names: string[] = [];
  const { value, grads } = tf.variableGrads(() => { const l = model.forwardTrain(batch as any); names = Object.keys(l); return l['decode.loss_ce']; });
  opt.applyGradients(grads); tf.dispose(grads);
  console.log(it, value.dataSync()[0], ((performance.now() - t0) / 1000).toFixed(2), 's', tf.memory().numTensors - before, 'wasm MB', ((tf.memory() as any).numBytesInWASM ?? tf.memory().numBytes) / 1e6);
  value.dispose();
}
model.module.eval();
const t0 = performance.now();
const res = model.predict({ ...batch, metas: [{ filename: 'a', ori_shape: [S + 10, S - 6, 3], img_shape: [S, S, 3] }, { filename: 'b', ori_shape: [S, S, 3], img_shape: [S, S, 3] }].slice(0, B) } as any);
console.log('predict s', (performance.now() - t0) / 1000, res.map((r) => [r.height, r.width, r.sem_seg.length]));
