// mmdet 2.x AnchorGenerator (v2 rule: base anchors centred on center_offset * base_size, no rounding;
// grid shifts = stride; order per level: for y, for x, for base anchor). All maths in float32 like torch.
const f = Math.fround;

export interface AnchorGeneratorConfig {
  strides: number[];
  ratios: number[];
  scales?: number[];
  octave_base_scale?: number;
  scales_per_octave?: number;
  /** Defaults to the strides. */
  base_sizes?: number[];
  /** mmdet's scale_major (default true): anchors ordered ratio-major, scale fastest. */
  scale_major?: boolean;
  center_offset?: number;
}

export class AnchorGenerator {
  readonly strides: number[];
  readonly ratios: number[];
  readonly scales: number[];
  readonly baseSizes: number[];
  readonly centerOffset: number;
  readonly scaleMajor: boolean;
  /** Base anchors per level, flat [A*4] (x1, y1, x2, y2) around (0, 0) + center offset. */
  readonly baseAnchors: Float32Array[];

  constructor(cfg: AnchorGeneratorConfig) {
    if (cfg.strides.length === 0) throw new RangeError('AnchorGenerator: strides must not be empty');
    this.strides = [...cfg.strides];
    this.ratios = [...cfg.ratios];
    if (cfg.scales !== undefined) {
      if (cfg.octave_base_scale !== undefined || cfg.scales_per_octave !== undefined) {
        throw new RangeError('AnchorGenerator: give either scales or octave_base_scale + scales_per_octave, not both');
      }
      this.scales = [...cfg.scales];
    } else if (cfg.octave_base_scale !== undefined && cfg.scales_per_octave !== undefined) {
      const n = cfg.scales_per_octave;
      this.scales = Array.from({ length: n }, (_, i) => 2 ** (i / n) * cfg.octave_base_scale!);
    } else {
      throw new RangeError('AnchorGenerator: either scales or octave_base_scale with scales_per_octave must be set');
    }
    this.baseSizes = cfg.base_sizes ? [...cfg.base_sizes] : [...this.strides];
    if (this.baseSizes.length !== this.strides.length) {
      throw new RangeError(`AnchorGenerator: ${this.baseSizes.length} base_sizes for ${this.strides.length} strides`);
    }
    this.centerOffset = cfg.center_offset ?? 0;
    if (!(this.centerOffset >= 0 && this.centerOffset <= 1)) throw new RangeError('AnchorGenerator: center_offset must be in [0, 1]');
    this.scaleMajor = cfg.scale_major ?? true;
    this.baseAnchors = this.baseSizes.map((b) => this.levelBaseAnchors(b));
  }

  get numLevels(): number {
    return this.strides.length;
  }

  /** Anchors per location (same on every level). */
  get numBaseAnchors(): number {
    return this.ratios.length * this.scales.length;
  }

  private levelBaseAnchors(base: number): Float32Array {
    const cx = f(this.centerOffset * base);
    const cy = cx;
    const hr = this.ratios.map((r) => f(Math.sqrt(f(r))));
    const wr = hr.map((h) => f(1 / h));
    const ws: number[] = [];
    const hs: number[] = [];
    if (this.scaleMajor) {
      for (let r = 0; r < hr.length; r++)
        for (const s of this.scales) {
          ws.push(f(f(base * wr[r]) * f(s)));
          hs.push(f(f(base * hr[r]) * f(s)));
        }
    } else {
      for (const s of this.scales)
        for (let r = 0; r < hr.length; r++) {
          ws.push(f(f(base * f(s)) * wr[r]));
          hs.push(f(f(base * f(s)) * hr[r]));
        }
    }
    const out = new Float32Array(ws.length * 4);
    for (let a = 0; a < ws.length; a++) {
      const hw = f(0.5 * ws[a]);
      const hh = f(0.5 * hs[a]);
      out.set([cx - hw, cy - hh, cx + hw, cy + hh], a * 4);
    }
    return out;
  }

  /** Anchors of one level for a feature map of featH x featW: [H*W*A*4], for y, for x, for anchor. */
  levelGridAnchors(level: number, featH: number, featW: number): Float32Array {
    const base = this.baseAnchors[level];
    const A = base.length / 4;
    const s = this.strides[level];
    const out = new Float32Array(featH * featW * A * 4);
    let o = 0;
    for (let y = 0; y < featH; y++) {
      const sy = f(y * s);
      for (let x = 0; x < featW; x++) {
        const sx = f(x * s);
        for (let a = 0; a < A; a++) {
          out[o++] = base[4 * a] + sx;
          out[o++] = base[4 * a + 1] + sy;
          out[o++] = base[4 * a + 2] + sx;
          out[o++] = base[4 * a + 3] + sy;
        }
      }
    }
    return out;
  }

  /** Anchors of every level; featSizes[i] = [H_i, W_i]. */
  gridAnchors(featSizes: [number, number][]): Float32Array[] {
    if (featSizes.length !== this.numLevels) {
      throw new RangeError(`AnchorGenerator: ${featSizes.length} feature maps for ${this.numLevels} levels`);
    }
    return featSizes.map(([h, w], i) => this.levelGridAnchors(i, h, w));
  }

  /**
   * mmdet valid_flags: a location is valid when it lies within ceil(padH / stride) x ceil(padW / stride)
   * (the part of the feature map that covers the padded image of this sample in a padded batch);
   * repeated for each base anchor. Per level [H*W*A] of 0/1.
   */
  validFlags(featSizes: [number, number][], padShape: [number, number]): Uint8Array[] {
    const A = this.numBaseAnchors;
    return featSizes.map(([h, w], i) => {
      const s = this.strides[i];
      const vh = Math.min(Math.ceil(padShape[0] / s), h);
      const vw = Math.min(Math.ceil(padShape[1] / s), w);
      const out = new Uint8Array(h * w * A);
      for (let y = 0; y < vh; y++) for (let x = 0; x < vw; x++) out.fill(1, (y * w + x) * A, (y * w + x + 1) * A);
      return out;
    });
  }
}
