// Whether a user installed the optional TensorFlow binding (README: npm install @tensorflow/tfjs-node-gpu
// or @tensorflow/tfjs-node). Tests about the 'tensorflow' backend assert the error only where it is absent.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** True when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node resolves from the repository. */
export function tfjsNodeInstalled(): boolean {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      // not installed: try the next one
    }
  }
  return false;
}
