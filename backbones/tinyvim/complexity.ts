// Parameter and multiply-accumulate counts of TinyViM, derived analytically from the architecture
// (no forward pass). MAC convention (the paper's, see fixtures param_counts.json): conv MACs are
// out_numel * (Cin/groups) * kh * kw for every Conv2d, linear MACs out_numel * in_features; the
// selective scan's own cost is reported separately as `scan` (x_proj and dt_proj einsums, plus the
// recurrence 5*K*d*L*N + K*d*L). BN/LN/activations/pooling are not counted.
import { type TinyViMConfig, hasEmbedding, stageBlockKinds } from './config';
import { K_DIRECTIONS, mixerDims } from './laplace_mixer';

export interface PartCount {
  name: string;
  params: number;
  /** conv + linear MACs. */
  macs: number;
  /** Selective-scan MACs: projections (x_proj, dt_proj) + recurrence. */
  scanMacs: number;
  scanProjMacs: number;
  scanCoreMacs: number;
}

export interface ComplexityReport {
  params: number;
  macs: number;
  scanMacs: number;
  parts: PartCount[];
}

const down2 = (x: number): number => Math.floor((x - 1) / 2) + 1;

class Counter {
  params = 0;
  macs = 0;
  scanProj = 0;
  scanCore = 0;
  constructor(
    readonly name: string,
    readonly fused: boolean,
  ) {}

  /** A conv with `bias`; `hw` output pixels. */
  conv(hw: number, cin: number, cout: number, kh: number, kw: number, depthwise: boolean, bias: boolean): void {
    const perOut = (depthwise ? 1 : cin) * kh * kw;
    this.params += cout * perOut + (bias ? cout : 0);
    this.macs += hw * cout * perOut;
  }
  bn(c: number): void {
    this.params += 2 * c;
  }
  /** Conv2d_BN: conv without bias + BN, or (fused) conv with bias. */
  convBN(hw: number, cin: number, cout: number, kh: number, kw: number, depthwise = false): void {
    this.conv(hw, cin, cout, kh, kw, depthwise, this.fused);
    if (!this.fused) this.bn(cout);
  }
  /** RepDW (3x3) or RepDW_Axias: one depth-wise conv with bias when fused. */
  repDW(hw: number, c: number, kh: number, kw: number): void {
    if (this.fused) return this.conv(hw, c, c, kh, kw, true, true);
    this.convBN(hw, c, c, kh, kw, true);
    this.conv(hw, c, c, 1, 1, true, true);
    this.bn(c);
  }
  ffn(hw: number, c: number, hidden: number): void {
    this.convBN(hw, c, hidden, 1, 1);
    this.convBN(hw, hidden, c, 1, 1);
  }
  localBlock(hw: number, c: number, ratio: number): void {
    this.params += c; // layer_scale
    this.repDW(hw, c, 3, 3);
    this.ffn(hw, c, Math.floor(c * ratio));
  }
  tvimBlock(h: number, w: number, c: number, stage: number, ratio: number, dState: number): void {
    const hw = h * w;
    const { dInner: d, dtRank: R, dState: N, pool } = mixerDims(c, stage, dState);
    const K = K_DIRECTIONS;
    this.params += K * (R + 2 * N) * d + K * d * R + K * d + K * d * N + K * d; // x_proj, dt_projs w/b, A_logs, Ds
    this.repDW(hw, c - d, 3, 3); // local_conv
    this.params += 2 * d; // out_norm
    this.convBN(hw, c, c, 1, 1); // in_proj
    const half = Math.floor(c / 2);
    this.repDW(hw, half, 1, 7); // dwconv_h
    this.repDW(hw, c - half, 7, 1); // dwconv_w
    this.convBN(hw, c, c, 1, 1); // out_proj
    const L = Math.floor(h / pool) * Math.floor(w / pool);
    this.scanProj += K * L * (R + 2 * N) * d + K * L * d * R;
    this.scanCore += 5 * K * d * L * N + K * d * L;
    this.ffn(hw, c, Math.floor(c * ratio));
  }
  result(): PartCount {
    return { name: this.name, params: this.params, macs: this.macs, scanMacs: this.scanProj + this.scanCore, scanProjMacs: this.scanProj, scanCoreMacs: this.scanCore };
  }
}

/**
 * Counts of a TinyViM for one `height` x `width` image. `fused` counts the re-parameterised deploy
 * form (what TinyViM.fuse() produces). Parts: stem, stage1..stage4 (each with the Embedding before
 * it), head (fork_feat norms, or norm + head + dist_head).
 */
export function tinyvimComplexity(cfg: TinyViMConfig, height: number, width: number, fused = false): ComplexityReport {
  const parts: Counter[] = [];
  const stem = new Counter('stem', fused);
  let h = down2(height);
  let w = down2(width);
  const c0 = cfg.embed_dims[0];
  stem.convBN(h * w, 3, Math.floor(c0 / 2), 3, 3);
  h = down2(h);
  w = down2(w);
  stem.convBN(h * w, Math.floor(c0 / 2), c0, 3, 3);
  parts.push(stem);
  let pendingEmbed: { cin: number; cout: number } | null = null;
  for (let i = 0; i < 4; i++) {
    const st = new Counter(`stage${i + 1}`, fused);
    const c = cfg.embed_dims[i];
    if (pendingEmbed) {
      h = down2(h);
      w = down2(w);
      st.convBN(h * w, pendingEmbed.cin, pendingEmbed.cout, 3, 3);
      pendingEmbed = null;
    }
    for (const kind of stageBlockKinds(cfg, i)) {
      if (kind === 'tvim') st.tvimBlock(h, w, c, i, cfg.mlp_ratios[i], cfg.d_state);
      else st.localBlock(h * w, c, cfg.mlp_ratios[i]);
    }
    if (hasEmbedding(cfg, i)) pendingEmbed = { cin: c, cout: cfg.embed_dims[i + 1] };
    parts.push(st);
  }
  const head = new Counter('head', fused);
  if (cfg.fork_feat) {
    for (let i = 0; i < 4; i++) head.bn(cfg.embed_dims[i]);
  } else {
    const c = cfg.embed_dims[3];
    head.bn(c);
    const heads = cfg.num_classes > 0 ? (cfg.distillation ? 2 : 1) : 0;
    head.params += heads * (c * cfg.num_classes + cfg.num_classes);
    head.macs += heads * c * cfg.num_classes;
  }
  parts.push(head);
  const res = parts.map((p) => p.result());
  return {
    params: res.reduce((a, p) => a + p.params, 0),
    macs: res.reduce((a, p) => a + p.macs, 0),
    scanMacs: res.reduce((a, p) => a + p.scanMacs, 0),
    parts: res,
  };
}
