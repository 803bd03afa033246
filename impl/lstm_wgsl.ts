/**
 * The ATN-LSTM recurrence (ATN-3) as two fused WebGPU kernels, one workgroup per sample running every time step in one
 * launch: the forward (a^h = h W_hh + b_h, ATN_h, the gates, c, ATN_c, h) and its BPTT (ATN-4.3, lstm_core.ts's
 * order: ATN_c's VJP, the gate preactivations, ATN_h's VJP, dh_{t-1} = da^h W_hh^T). Why one launch: a sample's
 * recurrence involves no other sample (every ATN statistic is per sample, ATN-1.2), so a workgroup can carry it
 * through T steps alone with barriers, where op by op each step costs a dozen dispatches (issue 13: op-by-op tfjs was
 * dispatch-bound on an H200). The sequence-level parts stay outside: x W_xh and ATN_x before (atn_webgpu.ts), the
 * weight gradients and the sums over samples after (lstm_webgpu.ts).
 *
 * The ATNs use the op's numerics (atn_wgsl.ts: stepStatsCode, windowCode, daSumCode, the same WGSL text): rows scaled
 * by powers of two, two-pass step statistics, Chan's join over the window, the closed-form backward in each window's
 * units. Activations are written as tfjs-backend-webgpu writes them (sigmoid 1/(1 + exp(-x)), tanh from exp(-2|x|)),
 * the code the op-by-op path (lstm_graph.ts) runs on the same backend.
 *
 * Buffers are flat float32 with named sections (FWD, BWD): a kernel writes only its `result`, so every
 * value later steps read (h_{t-1}, the window's step statistics, the adjoints) lives in a section of it, written and
 * read by the workgroup that owns the sample, ordered by storageBarrier(). Every invocation reaches every barrier (no
 * early return; a workgroup past the last sample skips its loads and stores).
 */
import { coefficientStores, daSumCode, program, statStores, stepStatsCode, TILE, windowCode, type KernelDefects, type Program } from './ops/atn_wgsl';

/** Sizes of a layer's run: T steps, B samples, H hidden units (G = 4H). */
export interface RecDims {
  T: number;
  B: number;
  H: number;
}

/** A buffer's sections in order, each `mult` times a unit: n = T*B*H, R = T*B rows, bh = B*H. */
type Unit = 'n' | 'R' | 'bh';
type Sections = readonly (readonly [name: string, mult: number, unit: Unit])[];

/**
 * The forward's output: h [T,B,H], c [T,B,H] first (the layer's value, [2,T,B,H]); then the tape: a^h with b_h
 * [T,B,G] (also ATN-6.6's check of ATN_h's windows), sigmoid(f), sigmoid(i), sigmoid(o), tanh(g), tanh(ATN_c(c))
 * [T,B,H] each, ATN_h's and ATN_c's step statistics [T*B,4] and window coefficients [T*B,8] (atn_wgsl.ts's layouts).
 */
export const FWD = [
  ['h', 1, 'n'],
  ['c', 1, 'n'],
  ['ah', 4, 'n'],
  ['f', 1, 'n'],
  ['i', 1, 'n'],
  ['o', 1, 'n'],
  ['gg', 1, 'n'],
  ['tc', 1, 'n'],
  ['stH', 4, 'R'],
  ['cfH', 8, 'R'],
  ['stC', 4, 'R'],
  ['cfC', 8, 'R'],
] as const satisfies Sections;

/**
 * The backward's output: dL/dp (the gate preactivations = ATN_x's output gradient) and dL/da^h [T,B,G]; per sample
 * sums over the steps of dp*z^h [B,G], of dy_c*z_c and of dy_c [B,H]; the adjoints dh, dc carried to the step before
 * ([B,H]; dh_0 and dc_0 at the end); the step's scratch (g*dy of ATN_c, dL/do) [B,H]; ATN_c's and ATN_h's row sums
 * (sum g dy, sum g dy z) [T*B,2].
 */
export const BWD = [
  ['dp', 4, 'n'],
  ['dah', 4, 'n'],
  ['dgh', 4, 'bh'],
  ['dgc', 1, 'bh'],
  ['doc', 1, 'bh'],
  ['dh', 1, 'bh'],
  ['dc', 1, 'bh'],
  ['ghat', 1, 'bh'],
  ['dO', 1, 'bh'],
  ['rsC', 2, 'R'],
  ['rsH', 2, 'R'],
] as const satisfies Sections;

type Offsets<S extends Sections> = Record<S[number][0], number> & { size: number };

/** The sections' offsets (in floats) and the total size for the sizes `d`. */
export function offsets<S extends Sections>(sections: S, d: RecDims): Offsets<S> {
  const unit = { n: d.T * d.B * d.H, R: d.T * d.B, bh: d.B * d.H };
  const o: Record<string, number> = {};
  let at = 0;
  for (const [name, mult, u] of sections) {
    o[name] = at;
    at += mult * unit[u];
  }
  return { ...o, size: at } as Offsets<S>;
}

/** The units as WGSL lets (once per shader, before offsetLets). */
const UNIT_LETS = '  let u_n = uniforms.T * uniforms.B * uniforms.H;\n  let u_R = uniforms.T * uniforms.B;\n  let u_bh = uniforms.B * uniforms.H;';

/** The same offsets as WGSL lets `<prefix><name>`, from the uniforms (one shader for every size). */
function offsetLets(sections: Sections, prefix: string): string {
  const lines: string[] = [];
  let at = '0';
  for (const [name, mult, u] of sections) {
    lines.push(`  let ${prefix}${name} = ${at};`);
    at = `${prefix}${name} + ${mult} * u_${u}`;
  }
  return lines.join('\n');
}

/** The layer's vectors packed in one input, in this order: b_h, ATN_h's gain and bias [G], ATN_c's gain and bias [H]. */
export const VEC = ['b_h', 'atn_h.gain', 'atn_h.bias', 'atn_c.gain', 'atn_c.bias'] as const;

/** WGSL helpers: the activations as tfjs-backend-webgpu writes them (unary_op_util.js SIGMOID, TANH). */
const ACT = `
fn sigm(a : f32) -> f32 { return 1.0 / (1.0 + exp(-1.0 * a)); }
fn tanhT(a : f32) -> f32 {
  let e2x = exp(-2.0 * abs(a));
  return sign(a) * (1.0 - e2x) / (1.0 + e2x);
}
`;

/** The end of a row reduction over n features: all, or (defect) the first tile only. */
const end = (n: string, d: KernelDefects) => (d.firstTileOnly ? `min(${n}, ${TILE})` : n);

/** The two workgroup variables through which invocation 0 hands values to the others (fromInvocation0). */
const HANDOFF = `
var<workgroup> w0 : f32;
var<workgroup> w1 : f32;`;

/**
 * WGSL: invocation 0 of a live sample's workgroup runs `body`, which binds the names `from`; then every invocation
 * has their values as lets `to` (through HANDOFF's variables, between barriers: all invocations reach them).
 */
function fromInvocation0(body: string, from: [string, string], to: [string, string]): string {
  return `    if (ok && localIndex == 0u) {
${body}
      w0 = ${from[0]};
      w1 = ${from[1]};
    }
    workgroupBarrier();
    let ${to[0]} = w0;
    let ${to[1]} = w1;
    workgroupBarrier();`;
}

/**
 * WGSL for one ATN of the recurrence at step t of sample b (every invocation runs it: it holds barriers): the step
 * statistics of the `width` entries result[x + h] into section st, then invocation 0 joins the window from st and
 * stores its coefficients into section cf; binds the row's A and Bc (atn_wgsl.ts windowProgram) as lets `A`, `Bc`.
 */
function atnStep(x: string, width: string, st: string, cf: string, A: string, Bc: string, d: KernelDefects): string {
  return `    {
${stepStatsCode((h) => `result[${x} + ${h}]`, 'ok', end(width, d), width)}
      if (ok && localIndex == 0u) {
${statStores((f) => `result[${st} + row * 4 + ${f}]`)}
      }
    }
    storageBarrier();
${fromInvocation0(
  `${windowCode((i) => `result[${st} + ${i}]`, 't', 'b', `f32(${width})`, d)}
${coefficientStores((f) => `result[${cf} + row * 8 + ${f}]`)}`,
  ['cA', 'cBc'],
  [A, Bc],
)}`;
}

/**
 * A recurrence program: one TILE-wide workgroup per sample (b; ok where b is a sample), output `out`, with the sizes
 * and the section offsets `lets` bound before `body` (main's statements).
 */
function recProgram(name: string, dm: RecDims, out: Sections, inputs: string[], lets: string, d: KernelDefects, body: string): Program {
  const main = `${ACT}
${HANDOFF}
fn main(index : i32) {
  let b = index / ${TILE};
  let ok = b < uniforms.B;
  let li = i32(localIndex);
  let B = uniforms.B;
  let H = uniforms.H;
  let G = 4 * H;
${UNIT_LETS}
${lets}
${body}
}
`;
  return program(name, [offsets(out, dm).size], inputs, dm.B, TILE, main, `${d.firstTileOnly ? '_tile1' : ''}${d.noRescale ? '_norescale' : ''}`);
}

/**
 * The forward: inputs yx (ATN_x's output [T,B,G]), hc0 (h0 then c0, [2,B,H]), W_hh [H,G] and vec (VEC); output FWD.
 * (Inputs are packed: WebGPU's default limit is 8 storage buffers per shader stage.)
 */
export function recForwardProgram(dm: RecDims, d: KernelDefects): Program {
  return recProgram(
    'lstm_fwd',
    dm,
    FWD,
    ['yx', 'hc0', 'whh', 'vec'],
    offsetLets(FWD, 'o_'),
    d,
    `
  for (var t = 0; t < uniforms.T; t = t + 1) {
    let row = t * B + b;
    // a^h = h_{t-1} W_hh + b_h (each invocation its columns; h_{t-1} was written by this workgroup a step ago)
    if (ok) {
      for (var e = li; e < G; e = e + ${TILE}) {
        var acc = 0.0;
        for (var i = 0; i < H; i = i + 1) {
          var hp = 0.0;
          if (t == 0) { hp = hc0[b * H + i]; } else { hp = result[o_h + (row - B) * H + i]; }
          acc = acc + hp * whh[i * G + e];
        }
        result[o_ah + row * G + e] = acc + vec[e];
      }
    }
    // ATN_h: the step's statistics, then (invocation 0) the window's coefficients
${atnStep('o_ah + row * G', 'G', 'o_stH', 'o_cfH', 'A', 'Bc', d)}
    // the gates and c_t (ATN-3.3, 3.4)
    if (ok) {
      let eT = -i32(result[o_stH + row * 4]);
      let mT = result[o_stH + row * 4 + 1];
      for (var j = li; j < H; j = j + ${TILE}) {
        var p : array<f32, 4>;
        for (var gate = 0; gate < 4; gate = gate + 1) {
          let e = gate * H + j;
          let zh = (ldexp(result[o_ah + row * G + e], eT) - mT) * A + Bc;
          p[gate] = yx[row * G + e] + (zh * vec[G + e] + vec[2 * G + e]);
        }
        let f = sigm(p[0]);
        let ig = sigm(p[1]);
        let og = sigm(p[2]);
        let gg = tanhT(p[3]);
        var cp = 0.0;
        if (t == 0) { cp = hc0[B * H + b * H + j]; } else { cp = result[o_c + (row - B) * H + j]; }
        let q = row * H + j;
        result[o_f + q] = f;
        result[o_i + q] = ig;
        result[o_o + q] = og;
        result[o_gg + q] = gg;
        result[o_c + q] = f * cp + ig * gg;
      }
    }
    // ATN_c over the cell (ATN-3.5)
${atnStep('o_c + row * H', 'H', 'o_stC', 'o_cfC', 'Ac', 'Bcc', d)}
    if (ok) {
      let eC = -i32(result[o_stC + row * 4]);
      let mC = result[o_stC + row * 4 + 1];
      for (var j = li; j < H; j = j + ${TILE}) {
        let q = row * H + j;
        let zc = (ldexp(result[o_c + q], eC) - mC) * Ac + Bcc;
        let tc = tanhT(zc * vec[3 * G + j] + vec[3 * G + H + j]);
        result[o_tc + q] = tc;
        result[o_h + q] = result[o_o + q] * tc;
      }
    }
    storageBarrier();
  }
`,
  );
}

/**
 * WGSL for one ATN's backward at step s of sample b (every invocation runs it): the row sums (s1, s2) of the step's
 * g*dy and g*dy*z into section rs, then invocation 0 forms daSumCode's P and Q over the windows s..s+k-1 from the
 * forward's sections st, cf and rs; binds them as lets `P`, `Q`.
 */
function windowSums(s1: string, s2: string, rs: string, st: string, cf: string, P: string, Q: string): string {
  return `    let ss_${rs} = wgSum2(vec2<f32>(${s1}, ${s2}));
    if (ok && localIndex == 0u) {
      result[${rs} + row * 2] = ss_${rs}.x;
      result[${rs} + row * 2 + 1] = ss_${rs}.y;
    }
    storageBarrier();
${fromInvocation0(
  daSumCode(
    (i) => `fw[${st} + ${i}]`,
    (i) => `fw[${cf} + ${i}]`,
    (i) => `result[${rs} + ${i}]`,
    's',
    'b',
  ),
  ['P', 'Q'],
  [P, Q],
)}`;
}

/**
 * BPTT: inputs dy (the upstream gradient of [h; c], [2,T,B,H]), fw (the forward's output), hc0, W_hh^T [G,H] and vec;
 * output BWD.
 */
export function recBackwardProgram(dm: RecDims, d: KernelDefects): Program {
  return recProgram(
    'lstm_bwd',
    dm,
    BWD,
    ['dy', 'fw', 'hc0', 'whhT', 'vec'],
    `${offsetLets(FWD, 'f_')}\n${offsetLets(BWD, 'o_')}`,
    d,
    `
  if (ok) {
    for (var j = li; j < H; j = j + ${TILE}) {
      result[o_dh + b * H + j] = 0.0;
      result[o_dc + b * H + j] = 0.0;
      result[o_dgc + b * H + j] = 0.0;
      result[o_doc + b * H + j] = 0.0;
    }
    for (var e = li; e < G; e = e + ${TILE}) { result[o_dgh + b * G + e] = 0.0; }
  }
  for (var s = uniforms.T - 1; s >= 0; s = s - 1) {
    let row = s * B + b;
    // ATN_c's output gradient at step s and its row sums
    var sg = 0.0;
    var sgz = 0.0;
    let eC = i32(fw[f_stC + row * 4]);
    let mC = fw[f_stC + row * 4 + 1];
    if (ok) {
      let Ac = fw[f_cfC + row * 8];
      let Bcc = fw[f_cfC + row * 8 + 1];
      for (var j = li; j < H; j = j + ${TILE}) {
        let q = row * H + j;
        let l = b * H + j;
        let dh = dy[q] + result[o_dh + l];
        let tc = fw[f_tc + q];
        result[o_dO + l] = dh * tc;
        let dyc = dh * fw[f_o + q] * (1.0 - tc * tc);
        let zc = (ldexp(fw[f_c + q], -eC) - mC) * Ac + Bcc;
        result[o_dgc + l] = result[o_dgc + l] + dyc * zc;
        result[o_doc + l] = result[o_doc + l] + dyc;
        let g = vec[3 * G + j] * dyc;
        result[o_ghat + l] = g;
        sg = sg + g;
        sgz = sgz + g * zc;
      }
    }
${windowSums('sg', 'sgz', 'o_rsC', 'f_stC', 'f_cfC', 'PC', 'QC')}
    // dc_s (ATN_c's VJP, the carried dc, the upstream dc), then the gate preactivations and ATN_h's row sums
    var sgH = 0.0;
    var sgzH = 0.0;
    let eH = i32(fw[f_stH + row * 4]);
    let mH = fw[f_stH + row * 4 + 1];
    if (ok) {
      let EC = max(eC, 0);
      let invC = fw[f_cfC + row * 8 + 2];
      let UC = i32(fw[f_cfC + row * 8 + 3]);
      let Ah = fw[f_cfH + row * 8];
      let Bch = fw[f_cfH + row * 8 + 1];
      for (var j = li; j < H; j = j + ${TILE}) {
        let q = row * H + j;
        let l = b * H + j;
        let own = sc2(result[o_ghat + l] * invC, EC - UC);
        let dd = ldexp(fw[f_c + q], -eC) - mC;
        let dc = (sc2(own - dd * PC - QC, -EC) + result[o_dc + l]) + dy[u_n + q];
        var cp = 0.0;
        if (s == 0) { cp = hc0[B * H + l]; } else { cp = fw[f_c + q - B * H]; }
        let f = fw[f_f + q];
        let ig = fw[f_i + q];
        let og = fw[f_o + q];
        let gg = fw[f_gg + q];
        result[o_dc + l] = dc * f;
        var dp : array<f32, 4>;
        dp[0] = dc * cp * f * (1.0 - f);
        dp[1] = dc * gg * ig * (1.0 - ig);
        dp[2] = result[o_dO + l] * og * (1.0 - og);
        dp[3] = dc * ig * (1.0 - gg * gg);
        for (var gate = 0; gate < 4; gate = gate + 1) {
          let e = gate * H + j;
          result[o_dp + row * G + e] = dp[gate];
          let zh = (ldexp(fw[f_ah + row * G + e], -eH) - mH) * Ah + Bch;
          result[o_dgh + b * G + e] = result[o_dgh + b * G + e] + dp[gate] * zh;
          let ph = vec[G + e] * dp[gate];
          sgH = sgH + ph;
          sgzH = sgzH + ph * zh;
        }
      }
    }
${windowSums('sgH', 'sgzH', 'o_rsH', 'f_stH', 'f_cfH', 'PH', 'QH')}
    // dL/da^h_s (ATN_h's VJP), then dh_{s-1} = da^h_s W_hh^T
    if (ok) {
      let EH = max(eH, 0);
      let invH = fw[f_cfH + row * 8 + 2];
      let UH = i32(fw[f_cfH + row * 8 + 3]);
      for (var e = li; e < G; e = e + ${TILE}) {
        let own = sc2((vec[G + e] * result[o_dp + row * G + e]) * invH, EH - UH);
        let dd = ldexp(fw[f_ah + row * G + e], -eH) - mH;
        result[o_dah + row * G + e] = sc2(own - dd * PH - QH, -EH);
      }
    }
    storageBarrier();
    if (ok) {
      for (var i = li; i < H; i = i + ${TILE}) {
        var acc = 0.0;
        for (var e = 0; e < G; e = e + 1) { acc = acc + result[o_dah + row * G + e] * whhT[e * H + i]; }
        result[o_dh + b * H + i] = acc;
      }
    }
    storageBarrier();
  }
`,
  );
}
