import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { roiAlign } from './ops/roi_align';
for (const backend of ['wasm', 'cpu']) {
  await tf.setBackend(backend);
  for (const [H, W, C, K, out] of [[200, 336, 256, 512, 7], [200, 336, 256, 128, 14], [64, 64, 64, 128, 7]] as const) {
    const feat = tf.randomNormal([2, H, W, C]) as tf.Tensor4D;
    const r: number[] = [];
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (let k = 0; k < K; k++) {
      const w = 16 + rnd() * 96, h = 16 + rnd() * 96; // sqrt(area) < 112 -> level 0 boxes
      const x = rnd() * (W * 4 - w), y = rnd() * (H * 4 - h);
      r.push(k % 2, x, y, x + w, y + h);
    }
    const rois = tf.tensor2d(r, [K, 5]);
    const gw = tf.randomNormal([K, out, out, C]);
    const run = () => {
      const t0 = performance.now();
      const y = roiAlign(feat, rois, [out, out], 0.25); y.dataSync();
      const t1 = performance.now();
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(roiAlign(x as tf.Tensor4D, rois, [out, out], 0.25), gw)))(feat); g.dataSync();
      const t2 = performance.now();
      tf.dispose([y, g]);
      return [t1 - t0, t2 - t1];
    };
    run();
    const a = run(), b = run();
    console.log(`${backend} feat 2x${H}x${W}x${C} K=${K} out=${out}: fwd ${((a[0]+b[0])/2).toFixed(0)} ms, fwd+bwd ${((a[1]+b[1])/2).toFixed(0)} ms`);
    tf.dispose([feat, rois, gw]);
  }
}
