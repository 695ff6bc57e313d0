// Per-model-type single-image inference for tools/infer: a model type that prints/writes its own kind of
// result (e.g. ImageClassifier: top-5 classes) registers a runner here; tools/infer looks the config's
// model.type up and falls back to its detector path when nothing is registered.
import type { Config } from '../core/config_root';

export interface ImageInferenceArgs {
  cfg: Config;
  configFile: string;
  checkpoint: string | null;
  files: string[];
  outDir: string;
  /** Class names given on the command line (else the runner's default names). */
  classes?: string[];
}

/** Runs inference on every file, prints one summary per image, writes results under outDir. */
export type ImageInferenceRunner = (args: ImageInferenceArgs) => Promise<void>;

/** model.type -> its single-image inference. */
export const IMAGE_INFERENCE = new Map<string, ImageInferenceRunner>();
