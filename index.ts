/**
 * tinyvim-dense: the package entry. One import gives the inference API, the models and the
 * registries with every backbone, neck, head, model, dataset, evaluator and kernel registered:
 *
 *   import { initDetector, inferenceDetector } from 'tinyvim-dense';
 *   const det = await initDetector(null, 'work_dirs/demo_mask_rcnn/latest.safetensors'); // config from the weights
 *   const { bboxes, scores, labels, masks } = await inferenceDetector(det, 'image.png');
 *
 * The same entry runs in browsers (package.json `exports`/`imports` pick platform/browser/*):
 * weights and images then come by URL, ArrayBuffer, or decoded pixels.
 */
// Registrations (side effects): backbones, models (+ necks/heads), datasets and their evaluators.
import './backbones/index';
import './models/index';
import './datasets/register';

export {
  initDetector,
  inferenceDetector,
  initSegmentor,
  inferenceSegmentor,
  loadWeights,
  loadImage,
  parameterCount,
  type Detector,
  type Segmentor,
  type ImageInput,
  type RgbPixels,
  type WeightsSource,
  type LoadedWeights,
  type InitOptions,
} from './apis/inference';

export { TinyViM, TinyViM_S, TinyViM_B, TinyViM_L, TINYVIM_VARIANTS } from './backbones/index';
export type { TinyViMVariant } from './backbones/index';
export { MaskRCNN } from './models/mask_rcnn';
export type { InstanceResult } from './structures/results';
export { EncoderDecoder } from './models/encoder_decoder';
export type { DetectionResult, SegResult } from './structures/results';
export { BACKBONES, NECKS, HEADS, MODELS, DATASETS, EVALUATORS } from './core/registry';
export { selectBackend, describeBackend, type BackendChoice, type BackendName, type BackendRequest } from './ops/backend';
export { checkConfig, defineConfig, type Config } from './core/config';
export { readSafetensors, writeSafetensors, type RawTensor, type SafetensorsFile, type WriteSafetensorsOptions } from './checkpoint/formats/safetensors';
export { parseCheckpoint, serializeCheckpoint, loadStateDict, CHECKPOINT_FORMAT, type CheckpointMeta, type LoadedCheckpoint } from './checkpoint';
export { ConfigError, CheckpointError, BackendError, UserError } from './core/errors';
export { PlatformError } from './platform/errors';
export { rleToBitmap } from './structures/mask_rle';
export * as evaluation from './evaluation/index';
