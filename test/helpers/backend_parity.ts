// Runs the toy classifier for a few iterations on each named backend and prints the per-iteration
// losses, so a GPU machine can show `--backend webgpu` trains like cpu. Usage:
//   node --import tsx test/helpers/backend_parity.ts cpu webgpu
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type BackendRequest, describeBackend, selectBackend } from '../../ops/backend';
import { loadConfig } from '../../core/config';
import { createRunner } from '../../engine/build';
import type { Hook } from '../../engine/hooks/hook';
import { MemoryLogSink } from '../../engine/log_writer';

const backends = process.argv.slice(2);
const { cfg } = await loadConfig('test/fixtures/configs/toy_cls.ts', ['runner.max_iters=5', 'evaluation.interval=100', 'checkpoint_config.interval=100']);
const out: Record<string, { loss: number[]; ms: number[] }> = {};
for (const name of backends) {
  console.log(describeBackend(await selectBackend(name as BackendRequest)));
  const rec = { loss: [] as number[], ms: [] as number[] };
  const probe: Hook = { name: 'probe', afterIter: (_r, o) => void (rec.loss.push(o.values.loss_cls), rec.ms.push(o.time * 1000)) };
  const runner = createRunner(cfg, { workDir: mkdtempSync(join(tmpdir(), 'parity-')), seed: 0, log: new MemoryLogSink() });
  runner.hooks.push(probe);
  await runner.run();
  runner.opts.model.module.dispose();
  runner.dispose();
  out[name] = rec;
  console.log(name, JSON.stringify(rec));
  tf.engine().reset();
}
if (backends.length > 1) {
  const [a, b] = backends;
  const diff = Math.max(...out[a].loss.map((v, i) => Math.abs(v - out[b].loss[i])));
  console.log(`max |loss_${a} - loss_${b}| over ${out[a].loss.length} iterations: ${diff.toExponential(3)}`);
}
