// AddN for the webgpu backend, replacing tfjs' own: its single shader binds one storage buffer per
// input, and Dawn's default limit (8 per shader stage) rejects the pipeline when gradients of a
// shared tensor are summed from more inputs (seen on an H100: "Invalid ComputePipeline AddNPackedProgram").
// Summing in groups of at most 7 stays within the limit.
import * as tf from '@tensorflow/tfjs';

const MAX_INPUTS = 7;

export function registerWebgpuAddN(): void {
  const original = tf.getKernel('AddN', 'webgpu');
  if (!original || (original as { patched?: boolean }).patched) return;
  const run = original.kernelFunc;
  tf.unregisterKernel('AddN', 'webgpu');
  const config = {
    kernelName: 'AddN',
    backendName: 'webgpu',
    patched: true,
    kernelFunc: (args: Parameters<typeof run>[0]) => {
      let tensors = args.inputs as unknown as tf.TensorInfo[];
      const backend = args.backend as unknown as { disposeData(id: object): void };
      const temps: tf.TensorInfo[] = [];
      while (tensors.length > MAX_INPUTS) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < tensors.length; i += MAX_INPUTS) {
          const group = tensors.slice(i, i + MAX_INPUTS);
          if (group.length === 1) next.push(group[0]);
          else {
            const sum = run({ ...args, inputs: group as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
            temps.push(sum);
            next.push(sum);
          }
        }
        tensors = next;
      }
      const out = run({ ...args, inputs: tensors as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
      for (const t of temps) backend.disposeData(t.dataId);
      return out;
    },
  };
  tf.registerKernel(config as tf.KernelConfig);
}
