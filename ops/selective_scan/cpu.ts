// Selective scan (Mamba `selective_scan_ref` semantics) as a deliberate CPU kernel over typed arrays.
//
// Layouts are Mamba's: u, delta, y [Bt, KD, L]; A [KD, N]; Bm, Cm [Bt, K, N, L] (grouped: channel c
// uses group c / D where D = KD / K); Dskip, deltaBias [KD].
//   dt_t = softplus(delta_t + bias_c)     (softplus(x) = x for x > 20, as PyTorch)
//   h_t  = exp(dt_t * A[c,n]) * h_{t-1} + dt_t * B[g,n,t] * u_t,   h_{-1} = 0
//   y_t  = sum_n h_t[n] * C[g,n,t] + Dskip[c] * u_t
// Arithmetic is in float64 (JS numbers), so results are at least as accurate as a float32 reference.
// Cost is O(Bt * KD * L * N) time for forward and backward; backward recomputes the states of one
// (batch, channel) row at a time, so extra memory is O(N * L), not O(Bt * KD * N * L).

export interface ScanDims {
  batch: number;
  /** K * D: all channels of all directions. */
  channels: number;
  /** Number of B/C groups (scan directions). */
  groups: number;
  length: number;
  dState: number;
}

export interface ScanInputs {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D: Float32Array | null;
  deltaBias: Float32Array | null;
}

export interface ScanGrads {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D: Float32Array;
  deltaBias: Float32Array;
}

const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function checkScanDims(d: ScanDims): void {
  if (d.groups <= 0 || d.channels % d.groups !== 0) {
    throw new Error(`selective scan: channels (${d.channels}) must be a multiple of the B/C groups (${d.groups})`);
  }
}

export function selectiveScanForwardCpu(x: ScanInputs, d: ScanDims, softplusDelta: boolean): Float32Array {
  checkScanDims(d);
  const { batch, channels, groups, length: L, dState: N } = d;
  const per = channels / groups;
  const y = new Float32Array(batch * channels * L);
  const h = new Float64Array(N);
  const a = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const g = Math.floor(c / per);
      const row = (b * channels + c) * L;
      const bc = (b * groups + g) * N * L;
      const bias = x.deltaBias ? x.deltaBias[c] : 0;
      const dskip = x.D ? x.D[c] : 0;
      for (let n = 0; n < N; n++) {
        h[n] = 0;
        a[n] = x.A[c * N + n];
      }
      for (let t = 0; t < L; t++) {
        const raw = x.delta[row + t] + bias;
        const dt = softplusDelta ? softplus(raw) : raw;
        const ut = x.u[row + t];
        const dtu = dt * ut;
        let acc = 0;
        for (let n = 0; n < N; n++) {
          const o = bc + n * L + t;
          const hn = Math.exp(dt * a[n]) * h[n] + dtu * x.B[o];
          h[n] = hn;
          acc += hn * x.C[o];
        }
        y[row + t] = acc + dskip * ut;
      }
    }
  }
  return y;
}

/** Gradients of sum(y * dy) with respect to every input (D and deltaBias grads are zeros when absent). */
export function selectiveScanBackwardCpu(x: ScanInputs, dy: Float32Array, d: ScanDims, softplusDelta: boolean): ScanGrads {
  checkScanDims(d);
  const { batch, channels, groups, length: L, dState: N } = d;
  const per = channels / groups;
  const gu = new Float32Array(batch * channels * L);
  const gdelta = new Float32Array(batch * channels * L);
  const gA = new Float64Array(channels * N);
  const gB = new Float64Array(batch * groups * N * L);
  const gC = new Float64Array(batch * groups * N * L);
  const gD = new Float64Array(channels);
  const gBias = new Float64Array(channels);
  // Per-row scratch: states h_t (t = 0..L-1), step sizes and decay factors.
  const hs = new Float64Array(L * N);
  const dts = new Float64Array(L);
  const dA = new Float64Array(L * N);
  const gh = new Float64Array(N);
  const a = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const g = Math.floor(c / per);
      const row = (b * channels + c) * L;
      const bc = (b * groups + g) * N * L;
      const bias = x.deltaBias ? x.deltaBias[c] : 0;
      const dskip = x.D ? x.D[c] : 0;
      for (let n = 0; n < N; n++) a[n] = x.A[c * N + n];
      // Recompute the forward states of this row.
      for (let t = 0; t < L; t++) {
        const raw = x.delta[row + t] + bias;
        const dt = softplusDelta ? softplus(raw) : raw;
        dts[t] = dt;
        const dtu = dt * x.u[row + t];
        for (let n = 0; n < N; n++) {
          const e = Math.exp(dt * a[n]);
          dA[t * N + n] = e;
          const prev = t > 0 ? hs[(t - 1) * N + n] : 0;
          hs[t * N + n] = e * prev + dtu * x.B[bc + n * L + t];
        }
      }
      // Reverse pass: gh = dLoss/dh_t accumulated from y_t and from h_{t+1}.
      gh.fill(0);
      let gDc = 0;
      let gAc0 = 0;
      for (let t = L - 1; t >= 0; t--) {
        const gyt = dy[row + t];
        const ut = x.u[row + t];
        const dt = dts[t];
        gDc += gyt * ut;
        let gut = gyt * dskip;
        let gdt = 0;
        for (let n = 0; n < N; n++) {
          const o = bc + n * L + t;
          const bv = x.B[o];
          gC[o] += gyt * hs[t * N + n];
          const g = gh[n] + gyt * x.C[o];
          const prev = t > 0 ? hs[(t - 1) * N + n] : 0;
          const e = dA[t * N + n];
          // h_t = e * prev + dt * B * u, with e = exp(dt * A)
          const gE = g * prev;
          gdt += gE * e * a[n] + g * bv * ut;
          gA[c * N + n] += gE * e * dt;
          gB[o] += g * dt * ut;
          gut += g * dt * bv;
          gh[n] = g * e;
        }
        gu[row + t] = gut;
        const raw = x.delta[row + t] + bias;
        const gRaw = softplusDelta ? (raw > 20 ? gdt : gdt * sigmoid(raw)) : gdt;
        gdelta[row + t] = gRaw;
        gAc0 += gRaw;
      }
      gD[c] += gDc;
      gBias[c] += gAc0;
    }
  }
  return {
    u: gu,
    delta: gdelta,
    A: Float32Array.from(gA),
    B: Float32Array.from(gB),
    C: Float32Array.from(gC),
    D: Float32Array.from(gD),
    deltaBias: Float32Array.from(gBias),
  };
}

// ---------------------------------------------------------------- packed per-row gradients
//
// The layout every backend's 'TinyViMSelectiveScanGrad' kernel writes: one row of width W per
// (batch, channel) row r = b * channels + c, holding that row's own contributions. Reductions across
// rows (B/C over the channels of a group, A/D/deltaBias over the batch) are tensor ops after the
// kernel, so a GPU kernel needs no atomics and one invocation owns one row.
//   [0, L)              du[t]
//   [L, 2L)             d(delta)[t]
//   [2L, 2L+NL)         dB contribution of this channel, [n, t]
//   [2L+NL, 2L+2NL)     dC contribution of this channel, [n, t]
//   [2L+2NL, 2L+3NL)    scratch: forward states h_t[n] at t * N + n (recomputed, not a gradient)
//   [2L+3NL, +N)        dA[c, n] contribution of this batch item
//   +N                  dD[c] contribution, then d(deltaBias)[c] contribution

export interface GradRowLayout {
  width: number;
  du: number;
  ddelta: number;
  dB: number;
  dC: number;
  states: number;
  dA: number;
  dD: number;
  dBias: number;
}

export function gradRowLayout(L: number, N: number): GradRowLayout {
  const dB = 2 * L;
  const dC = dB + N * L;
  const states = dC + N * L;
  const dA = states + N * L;
  const dD = dA + N;
  return { width: dD + 2, du: 0, ddelta: L, dB, dC, states, dA, dD, dBias: dD + 1 };
}

/**
 * Packed per-row gradients (layout above). Written statement by statement like the WGSL kernel in
 * ops/selective_scan/webgpu.ts (same indices, same order, float32 state storage), so it also
 * serves as the executable specification of that shader's index arithmetic.
 */
export function selectiveScanGradRowsCpu(x: ScanInputs, dy: Float32Array, d: ScanDims, softplusDelta: boolean): Float32Array {
  checkScanDims(d);
  const { batch, channels, groups, length: L, dState: N } = d;
  const lay = gradRowLayout(L, N);
  const rows = batch * channels;
  const result = new Float32Array(rows * lay.width);
  const a = new Float64Array(N);
  const h = new Float64Array(N);
  const gh = new Float64Array(N);
  const gA = new Float64Array(N);
  for (let row = 0; row < rows; row++) {
    const c = row % channels;
    const b = (row - c) / channels;
    const per = channels / groups;
    const g = Math.floor(c / per);
    const base = row * L;
    const bc = (b * groups + g) * N * L;
    const out = row * lay.width;
    const bias = x.deltaBias ? x.deltaBias[c] : 0;
    const dskip = x.D ? x.D[c] : 0;
    for (let n = 0; n < N; n++) {
      a[n] = x.A[c * N + n];
      h[n] = 0;
      gh[n] = 0;
      gA[n] = 0;
    }
    // Forward recompute, states into the scratch region.
    for (let t = 0; t < L; t++) {
      const raw = x.delta[base + t] + bias;
      const dt = softplusDelta ? softplus(raw) : raw;
      const dtu = dt * x.u[base + t];
      for (let n = 0; n < N; n++) {
        const o = bc + n * L + t;
        h[n] = Math.exp(dt * a[n]) * h[n] + dtu * x.B[o];
        result[out + lay.states + t * N + n] = h[n];
      }
    }
    // Reverse pass.
    let gDc = 0;
    let gBiasc = 0;
    for (let t = L - 1; t >= 0; t--) {
      const gyt = dy[base + t];
      const ut = x.u[base + t];
      const raw = x.delta[base + t] + bias;
      const dt = softplusDelta ? softplus(raw) : raw;
      gDc += gyt * ut;
      let gut = gyt * dskip;
      let gdt = 0;
      for (let n = 0; n < N; n++) {
        const o = bc + n * L + t;
        const bv = x.B[o];
        const ht = result[out + lay.states + t * N + n];
        const prev = t > 0 ? result[out + lay.states + (t - 1) * N + n] : 0;
        result[out + lay.dC + n * L + t] = gyt * ht;
        const gn = gh[n] + gyt * x.C[o];
        const e = Math.exp(dt * a[n]);
        const gE = gn * prev;
        gdt += gE * e * a[n] + gn * bv * ut;
        gA[n] += gE * e * dt;
        result[out + lay.dB + n * L + t] = gn * dt * ut;
        gut += gn * dt * bv;
        gh[n] = gn * e;
      }
      const gRaw = softplusDelta ? (raw > 20 ? gdt : gdt * sigmoid(raw)) : gdt;
      result[out + lay.du + t] = gut;
      result[out + lay.ddelta + t] = gRaw;
      gBiasc += gRaw;
    }
    for (let n = 0; n < N; n++) result[out + lay.dA + n] = gA[n];
    result[out + lay.dD] = gDc;
    result[out + lay.dBias] = gBiasc;
  }
  return result;
}
