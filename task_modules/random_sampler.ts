// mmdet 2.x RandomSampler (BaseSampler.sample + random positive/negative choice) on typed arrays.
import { numBoxes } from '../ops/boxes';
import { type AssignResult, withGtAsProposals } from './assign_result';

export interface RandomSamplerConfig {
  num: number;
  pos_fraction: number;
  /** Upper bound of negatives per positive (-1: none). */
  neg_pos_ub?: number;
  add_gt_as_proposals?: boolean;
}

export interface SamplingResult {
  /**
   * Indices of the sampled positives / negatives, ascending (mmdet takes .unique()). When
   * add_gt_as_proposals is on, they index the gt boxes followed by the input boxes ([gt; bboxes]).
   */
  posInds: Int32Array;
  negInds: Int32Array;
  /** flat [P*4] / [Q*4] boxes of those indices. */
  posBboxes: Float32Array;
  negBboxes: Float32Array;
  /** flat [P*4]: the gt box each positive is assigned to. */
  posGtBboxes: Float32Array;
  /** [P]: index of that gt (0-based). */
  posAssignedGtInds: Int32Array;
  /** [P]: its label (empty when the assignment had no labels). */
  posGtLabels: Int32Array;
  /** [P]: 1 where the positive is a gt box added as a proposal. */
  posIsGt: Uint8Array;
  numGts: number;
  /** The assignment after gt boxes were prepended (the input one when they were not). */
  assign: AssignResult;
}

/** `num` distinct elements of `gallery` chosen uniformly (partial Fisher-Yates), returned ascending. */
export function randomChoice(gallery: Int32Array, num: number, rng: () => number): Int32Array {
  if (num > gallery.length) throw new RangeError(`randomChoice: ${num} from ${gallery.length}`);
  const a = Int32Array.from(gallery);
  for (let i = 0; i < num; i++) {
    const j = i + Math.floor(rng() * (a.length - i));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, num).sort();
}

function pick(boxes: Float32Array, inds: Int32Array): Float32Array {
  const out = new Float32Array(inds.length * 4);
  for (let k = 0; k < inds.length; k++) out.set(boxes.subarray(inds[k] * 4, inds[k] * 4 + 4), k * 4);
  return out;
}

export class RandomSampler {
  readonly num: number;
  readonly posFraction: number;
  readonly negPosUb: number;
  readonly addGtAsProposals: boolean;

  constructor(cfg: RandomSamplerConfig) {
    this.num = cfg.num;
    this.posFraction = cfg.pos_fraction;
    this.negPosUb = cfg.neg_pos_ub ?? -1;
    this.addGtAsProposals = cfg.add_gt_as_proposals ?? true;
  }

  sample(assign: AssignResult, bboxes: Float32Array, gtBboxes: Float32Array, gtLabels: Int32Array | undefined, rng: () => number): SamplingResult {
    const g = numBoxes(gtBboxes, 'gtBboxes');
    let boxes = bboxes;
    let a = assign;
    let gtFlags = new Uint8Array(numBoxes(bboxes, 'bboxes'));
    if (this.addGtAsProposals && g > 0) {
      if (!gtLabels) throw new RangeError('RandomSampler: gtLabels are required when add_gt_as_proposals is on');
      boxes = new Float32Array(gtBboxes.length + bboxes.length);
      boxes.set(gtBboxes, 0);
      boxes.set(bboxes, gtBboxes.length);
      a = withGtAsProposals(assign, gtLabels);
      const flags = new Uint8Array(gtFlags.length + g);
      flags.fill(1, 0, g);
      gtFlags = flags;
    }
    if (a.gtInds.length !== gtFlags.length) {
      throw new RangeError(`RandomSampler: assignment covers ${a.gtInds.length} boxes, got ${gtFlags.length}`);
    }
    const posAll: number[] = [];
    const negAll: number[] = [];
    a.gtInds.forEach((v, i) => {
      if (v > 0) posAll.push(i);
      else if (v === 0) negAll.push(i);
    });
    const expectedPos = Math.trunc(this.num * this.posFraction);
    const posInds = posAll.length <= expectedPos ? Int32Array.from(posAll) : randomChoice(Int32Array.from(posAll), expectedPos, rng);
    let expectedNeg = this.num - posInds.length;
    if (this.negPosUb >= 0) expectedNeg = Math.min(expectedNeg, Math.trunc(this.negPosUb * Math.max(1, posInds.length)));
    const negInds = negAll.length <= expectedNeg ? Int32Array.from(negAll) : randomChoice(Int32Array.from(negAll), expectedNeg, rng);

    const posAssignedGtInds = Int32Array.from(posInds, (i) => a.gtInds[i] - 1);
    const posGtBboxes = g === 0 ? new Float32Array(0) : pick(gtBboxes, posAssignedGtInds);
    const posGtLabels = a.labels.length === a.gtInds.length ? Int32Array.from(posInds, (i) => a.labels[i]) : new Int32Array(0);
    return {
      posInds,
      negInds,
      posBboxes: pick(boxes, posInds),
      negBboxes: pick(boxes, negInds),
      posGtBboxes,
      posAssignedGtInds,
      posGtLabels,
      posIsGt: Uint8Array.from(posInds, (i) => gtFlags[i]),
      numGts: g,
      assign: a,
    };
  }
}
