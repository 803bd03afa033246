/**
 * The ATN op's fused WebGPU kernels (WGSL compute programs run by tfjs-backend-webgpu's runWebGPUProgram): the
 * numerics of atn_tensor.ts (rows scaled by powers of two, two-pass step statistics, Chan's join carrying s1,
 * normalizeT's coefficients) and the closed-form backward of atn_host.ts (ATN-4.1, centred on the step's own centre),
 * in float32, as seven dispatches instead of a chain of tfjs ops:
 *
 *   forward   stats  (one workgroup per row: max|a|, scale exponent e, centre m, s1, q; tree reductions over H)
 *             window (one thread per row: Chan's join over the window's steps, then normalizeT's A, Bc, 1/s)
 *             y      (one thread per entry: y = g * ((x - m) * A + Bc) + b, x = a * 2^-e)
 *   backward  rowsum (one workgroup per row: sum g*dy and sum g*dy*z)
 *             dasum  (one thread per row: the forward-looking window sums P, Q of ATN-4.1)
 *             da     (one thread per entry: da = 2^-E * (g*dy*A' - (x - m)*P - Q), E = max(e, 0))
 *             affine (one workgroup per feature: dgain = sum dy*z, dbias = sum dy over all rows)
 *
 * Statistics rows are time-major (r = t*B + b) whatever the data layout; `rowOffset` maps a row to its data. Every
 * power of two is applied with ldexp in steps of at most 2^±126 (WGSL leaves ldexp's result indeterminate past the
 * exponent range, and may flush where the result is subnormal: the webgpu target's documented flush-to-zero level).
 * Barriers are reached by every invocation of a workgroup (no early return: rows past the end only skip their loads
 * and stores), as WGSL's uniformity rules require.
 */

/** Threads per workgroup of the reductions over a row's H features or over a feature's rows: a tile smaller than the
 * realistic H (512) and than 4H, so that partial and multiple tiles are what the campaign exercises. */
export const TILE = 128;

/** Test-only defects that the suite must catch (properties/impl-atn-webgpu.test.ts); never set otherwise. */
export interface KernelDefects {
  /** The reductions over a row see only the first TILE features (the classic tiled-reduction bug). */
  firstTileOnly?: boolean;
  /** The window join skips the scaling of the older group (a lost rescale when magnitudes differ). */
  noRescale?: boolean;
}

export interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  getUserCode(): string;
}

/** Uniforms shared by every program (the order of `uniformData` in atn_webgpu.ts). */
export const UNIFORMS = 'T : i32, B : i32, H : i32, K : i32, bm : i32, hasEps : i32, epsU : i32, eps : f32,';

/** WGSL helpers: row offsets in the data, ldexp in safe steps, workgroup reductions. */
const COMMON = `
fn rowOffset(r : i32) -> i32 {
  let t = r / uniforms.B;
  let b = r - t * uniforms.B;
  if (uniforms.bm == 1) { return (b * uniforms.T + t) * uniforms.H; }
  return r * uniforms.H;
}
// the time-major row of data entry i
fn rowOfEntry(i : i32) -> i32 {
  let q = i / uniforms.H;
  if (uniforms.bm == 1) {
    let b = q / uniforms.T;
    return (q - b * uniforms.T) * uniforms.B + b;
  }
  return q;
}
// x * 2^e for |e| <= 378, in three exact steps (each |step| <= 126)
fn sc2(x : f32, e : i32) -> f32 {
  let c = clamp(e, -378, 378);
  let e1 = c / 3;
  let e2 = (c - e1) / 2;
  return ldexp(ldexp(ldexp(x, e1), e2), c - e1 - e2);
}
`;

/**
 * A workgroup reduction `fn name(v : type) -> type` over the TILE invocations (a tree of `combine`), in buffer `buf`.
 * Every invocation reads the result from `<buf>B`, written by invocation 0 between two barriers. (Read straight
 * from buf[0] by all invocations after the barrier, the sum came out wrong on Dawn's OpenGL ES backend over llvmpipe.)
 */
const reduction = (name: string, type: string, buf: string, combine: (x: string, y: string) => string) => `
fn ${name}(v : ${type}) -> ${type} {
  ${buf}[localIndex] = v;
  workgroupBarrier();
  for (var s = ${TILE / 2}u; s > 0u; s = s / 2u) {
    if (localIndex < s) { ${buf}[localIndex] = ${combine(`${buf}[localIndex]`, `${buf}[localIndex + s]`)}; }
    workgroupBarrier();
  }
  if (localIndex == 0u) { ${buf}B = ${buf}[0]; }
  workgroupBarrier();
  let r = ${buf}B;
  workgroupBarrier();
  return r;
}`;

const REDUCE = `
var<workgroup> red : array<f32, ${TILE}>;
var<workgroup> redB : f32;
// two sums at once (the same additions in the same order as two wgSum calls, half the barriers)
var<workgroup> red2 : array<vec2<f32>, ${TILE}>;
var<workgroup> red2B : vec2<f32>;
${reduction('wgSum', 'f32', 'red', (x, y) => `${x} + ${y}`)}
${reduction('wgSum2', 'vec2<f32>', 'red2', (x, y) => `${x} + ${y}`)}
${reduction('wgMax', 'f32', 'red', (x, y) => `max(${x}, ${y})`)}
`;

/** [x, y, 1] workgroups covering n (WebGPU allows at most 65535 per dimension). */
function dispatchOf(n: number): [number, number, number] {
  const x = Math.min(Math.max(n, 1), 65535);
  return [x, Math.ceil(Math.max(n, 1) / x), 1];
}

/** A program of `groups` workgroups of `wg` invocations (TILE-wide ones get the reductions) over COMMON's helpers. */
export function program(name: string, outputShape: number[], variableNames: string[], groups: number, wg: number, body: string, key = ''): Program {
  return {
    outputShape,
    shaderKey: `atn_${name}_${wg}${key}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: dispatchOf(groups),
    variableNames,
    uniforms: UNIFORMS,
    workgroupSize: [wg, 1, 1],
    getUserCode: () => COMMON + (wg === TILE ? REDUCE : '') + body,
  };
}

/** The features a row reduction visits: all H, or (defect) the first tile only. */
const hEnd = (d: KernelDefects) => (d.firstTileOnly ? `min(uniforms.H, ${TILE})` : 'uniforms.H');

/**
 * WGSL statements (every invocation of a TILE workgroup runs them: they hold barriers) forming one row's step
 * statistics from its entries x(h), h = li, li + TILE, ... < hE, of a row of `n` entries, where `ok` says the row
 * exists: binds e (the scale exponent, max|x| 2^-e in [0.5, 1)), m (the float32 mean of x 2^-e), s1 (sum(x 2^-e - m))
 * and q (sum((x 2^-e - m)^2) - s1^2/n, the corrected two-pass M2, >= 0). Needs li (the invocation's index, i32) and REDUCE.
 */
export function stepStatsCode(x: (h: string) => string, ok: string, hE: string, n: string): string {
  return `
  var c = 0.0;
  if (${ok}) { for (var h = li; h < ${hE}; h = h + ${TILE}) { c = max(c, abs(${x('h')})); } }
  c = wgMax(c);
  var e = 0;
  if (c > 0.0) { e = clamp(frexp(c).exp, -125, 126); }
  var s = 0.0;
  if (${ok}) { for (var h = li; h < ${hE}; h = h + ${TILE}) { s = s + ldexp(${x('h')}, -e); } }
  let m = wgSum(s) / f32(${n});
  var s1 = 0.0;
  var s2 = 0.0;
  if (${ok}) {
    for (var h = li; h < ${hE}; h = h + ${TILE}) {
      let dd = ldexp(${x('h')}, -e) - m;
      s1 = s1 + dd;
      s2 = s2 + dd * dd;
    }
  }
  let ss = wgSum2(vec2<f32>(s1, s2));
  s1 = ss.x;
  s2 = ss.y;
  let q = max(s2 - s1 * s1 / f32(${n}), 0.0);`;
}

/** WGSL stores of stepStatsCode's e, m, s1, q into the four fields at(0..3) of a statistics row. */
export const statStores = (at: (field: number) => string) => ['f32(e)', 'm', 's1', 'q'].map((v, f) => `  ${at(f)} = ${v};`).join('\n');

/** WGSL stores of windowCode's coefficients into the eight fields at(0..7) of a coefficients row. */
export const coefficientStores = (at: (field: number) => string) =>
  ['cA', 'cBc', 'cInv', 'f32(cU)', 'cMu', 'cRest', 'cN', '0.0'].map((v, f) => `  ${at(f)} = ${v};`).join('\n');

/**
 * Step statistics per row ([rows, 4]: e, m, s1, q), in units of 2^e with max|x| in [0.5, 1): m = the float32 mean of
 * x, s1 = sum(x - m), q = sum((x - m)^2) - s1^2/H (the corrected two-pass M2, >= 0).
 */
export function statsProgram(rows: number, d: KernelDefects): Program {
  return program(
    'stats',
    [rows, 4],
    ['ax'],
    rows,
    TILE,
    `
fn main(index : i32) {
  let r = index / ${TILE};
  let ok = r < uniforms.T * uniforms.B;
  let H = uniforms.H;
  let hE = ${hEnd(d)};
  let o = select(0, rowOffset(r), ok);
  let li = i32(localIndex);
${stepStatsCode((h) => `ax[o + ${h}]`, 'ok', 'hE', 'H')}
  if (ok && localIndex == 0u) {
${statStores((f) => `result[r * 4 + ${f}]`)}
  }
}
`,
    d.firstTileOnly ? '_tile1' : '',
  );
}

/**
 * Window statistics and normalization coefficients per row ([rows, 8]: A, Bc, inv, U, mu, rest, N, 0): Chan's join
 * of the window's steps, older first, rescaled to the larger exponent (atn_tensor.ts joinT), then normalizeT's
 * coefficients in units of 2^U: inv = 1/sqrt(var/2^2U + eps/2^2U), A = 2^(e_t - U) * inv, Bc = ((m_t 2^(e_t-U) - mu) -
 * rest) * inv, so that z = (x - m_t) * A + Bc.
 */
export function windowProgram(rows: number, d: KernelDefects): Program {
  return program(
    'window',
    [rows, 8],
    ['st'],
    Math.ceil(rows / 64),
    64,
    `
fn main(index : i32) {
  let r = index;
  if (r >= uniforms.T * uniforms.B) { return; }
  let t = r / uniforms.B;
  let b = r - t * uniforms.B;
${windowCode((i) => `st[${i}]`, 't', 'b', 'f32(uniforms.H)', d)}
${coefficientStores((f) => `result[r * 8 + ${f}]`)}
}
`,
    d.noRescale ? '_norescale' : '',
  );
}

/**
 * WGSL statements (one invocation) joining the window that ends at step t of sample b from the step statistics st(i)
 * (i = (step * B + b) * 4 + field, fields e, m, s1, q of stepStatsCode), each step of `n` entries (an f32 expression):
 * binds windowProgram's coefficients cA, cBc, cInv, cU (i32), cMu, cRest, cN.
 */
export function windowCode(st: (i: string) => string, t: string, b: string, n: string, d: KernelDefects): string {
  const r = (v: string, de: string) => (d.noRescale ? v : `sc2(${v}, ${de})`);
  return `
  let wH = ${n};
  let t0 = max(0, ${t} - uniforms.K + 1);
  let p0 = (t0 * uniforms.B + ${b}) * 4;
  var e = i32(${st('p0')});
  var m = ${st('p0 + 1')};
  var s1 = ${st('p0 + 2')};
  var q = ${st('p0 + 3')};
  var n = wH;
  for (var j = t0 + 1; j <= ${t}; j = j + 1) {
    let p = (j * uniforms.B + ${b}) * 4;
    let eB = i32(${st('p')});
    let e2 = max(e, eB);
    let mA = ${r('m', 'e - e2')};
    let sA = ${r('s1', 'e - e2')};
    let qA = ${r(r('q', 'e - e2'), 'e - e2')};
    let mB = sc2(${st('p + 1')}, eB - e2);
    let sB = sc2(${st('p + 2')}, eB - e2);
    let qB = sc2(sc2(${st('p + 3')}, eB - e2), eB - e2);
    let n2 = n + wH;
    let dm = mB - mA;
    let delta = dm + (sB / wH - sA / n);
    let mm = mA + dm * (wH / n2);
    s1 = (sA + sB) + ((mA - mm) * n + (mB - mm) * wH);
    q = (qA + qB) + delta * delta * (n * wH / n2);
    m = mm;
    e = e2;
    n = n2;
  }
  var cU = e;
  if (uniforms.hasEps == 1) { cU = max(e, uniforms.epsU); }
  let cMu = sc2(m, e - cU);
  let cRest = sc2(s1, e - cU) / n;
  var v = sc2(sc2(q, e - cU), e - cU) / n;
  if (uniforms.hasEps == 1) { v = v + max(sc2(sc2(uniforms.eps, -cU), -cU), ${2 ** -80}); }
  let cInv = inverseSqrt(v);
  let pS = (${t} * uniforms.B + ${b}) * 4;
  let eS = i32(${st('pS')});
  let cA = sc2(cInv, eS - cU);
  let cBc = ((sc2(${st('pS + 1')}, eS - cU) - cMu) - cRest) * cInv;
  let cN = n;`;
}

/** y = g * ((a 2^-e - m) * A + Bc) + b per entry (normalizeT's order of operations). */
export function yProgram(shape: number[], n: number): Program {
  return program(
    'y',
    shape,
    ['ax', 'gx', 'bx', 'st', 'cf'],
    Math.ceil(n / 64),
    64,
    `
fn main(index : i32) {
  let i = index;
  if (i >= uniforms.T * uniforms.B * uniforms.H) { return; }
  let r = rowOfEntry(i);
  let h = i % uniforms.H;
  let dd = ldexp(ax[i], -i32(st[r * 4])) - st[r * 4 + 1];
  let z = dd * cf[r * 8] + cf[r * 8 + 1];
  result[i] = z * gx[h] + bx[h];
}
`,
  );
}

/** Per row ([rows, 2]): sum_h g*dy and sum_h g*dy*z, z as the forward computed it. */
export function rowSumProgram(rows: number, d: KernelDefects): Program {
  return program(
    'rowsum',
    [rows, 2],
    ['ax', 'dyx', 'gx', 'st', 'cf'],
    rows,
    TILE,
    `
fn main(index : i32) {
  let r = index / ${TILE};
  let ok = r < uniforms.T * uniforms.B;
  let hE = ${hEnd(d)};
  let o = select(0, rowOffset(r), ok);
  let li = i32(localIndex);
  var s1 = 0.0;
  var s2 = 0.0;
  if (ok) {
    let e = -i32(st[r * 4]);
    let m = st[r * 4 + 1];
    let A = cf[r * 8];
    let Bc = cf[r * 8 + 1];
    for (var h = li; h < hE; h = h + ${TILE}) {
      let gh = gx[h] * dyx[o + h];
      let z = (ldexp(ax[o + h], e) - m) * A + Bc;
      s1 = s1 + gh;
      s2 = s2 + gh * z;
    }
  }
  let ss = wgSum2(vec2<f32>(s1, s2));
  if (ok && localIndex == 0u) {
    result[r * 2] = ss.x;
    result[r * 2 + 1] = ss.y;
  }
}
`,
    d.firstTileOnly ? '_tile1' : '',
  );
}

/**
 * The window sums of ATN-4.1 for each row s ([rows, 2]: P, Q), over the windows t = s..s+k-1 that contain step s,
 * such that da = 2^-E (g dy A'_s - (x - m_s) P - Q) with E = max(e_s, 0): m1 = sum(g dy)/N_t, m2 = sum(g dy z)/N_t,
 *   P = sum_t (m2 inv_t^2) 2^((e_s - U_t) + (E - U_t)),   Q = sum_t (m1 inv_t + m2 inv_t^2 D_t) 2^(E - U_t),
 * D_t = m_s 2^(e_s - U_t) - mu_t - rest_t, centred on step s's own centre m_s (atn_host.ts: no cancellation against a
 * window mean from another window), and A'_s = inv_s 2^(E - U_s). Why E: each bracket is formed in its window's
 * units (|m1|, |m2| about |g dy|, inv about 1) and shifted once, into units where a term is its true value times
 * 2^E >= its true value: a shift that underflows (flushes) then loses less than 2^-126 in true units. In the step's
 * own units (E = e_s) a tiny step (e_s = -60) in a window of large ones would lose terms of true size up to 2^-66.
 */
export function daSumProgram(rows: number): Program {
  return program(
    'dasum',
    [rows, 2],
    ['st', 'cf', 'rs'],
    Math.ceil(rows / 64),
    64,
    `
fn main(index : i32) {
  let s = index;
  if (s >= uniforms.T * uniforms.B) { return; }
  let ts = s / uniforms.B;
  let b = s - ts * uniforms.B;
${daSumCode(
  (i) => `st[${i}]`,
  (i) => `cf[${i}]`,
  (i) => `rs[${i}]`,
  'ts',
  'b',
)}
  result[s * 2] = P;
  result[s * 2 + 1] = Q;
}
`,
  );
}

/**
 * WGSL statements (one invocation) forming daSumProgram's P and Q for step ts of sample b from the step statistics
 * st(i) (i = row * 4 + field), the window coefficients cf(i) (row * 8 + field, windowProgram's) and the row sums rs(i)
 * (row * 2 + field: sum g dy, sum g dy z) of the windows ts..ts+k-1 (rows t * B + b): binds P and Q.
 */
export function daSumCode(st: (i: string) => string, cf: (i: string) => string, rs: (i: string) => string, ts: string, b: string): string {
  return `
  let sRow = ${ts} * uniforms.B + ${b};
  let eS = i32(${st('sRow * 4')});
  let E = max(eS, 0);
  let mS = ${st('sRow * 4 + 1')};
  var P = 0.0;
  var Q = 0.0;
  let tE = min(uniforms.T - 1, ${ts} + uniforms.K - 1);
  for (var t = ${ts}; t <= tE; t = t + 1) {
    let r = t * uniforms.B + ${b};
    let inv = ${cf('r * 8 + 2')};
    let U = i32(${cf('r * 8 + 3')});
    let n = ${cf('r * 8 + 6')};
    let m1 = ${rs('r * 2')} / n;
    let m2i = (${rs('r * 2 + 1')} / n) * inv;
    let D = (sc2(mS, eS - U) - ${cf('r * 8 + 4')}) - ${cf('r * 8 + 5')};
    P = P + sc2(sc2(m2i * inv, eS - U), E - U);
    Q = Q + sc2(m1 * inv + m2i * inv * D, E - U);
  }`;
}

/** da per entry: 2^-E ((g dy) inv_s 2^(E - U_s) - (x - m_s) P_s - Q_s), E = max(e_s, 0) (daSumProgram). */
export function daProgram(shape: number[], n: number): Program {
  return program(
    'da',
    shape,
    ['ax', 'dyx', 'gx', 'st', 'cf', 'pq'],
    Math.ceil(n / 64),
    64,
    `
fn main(index : i32) {
  let i = index;
  if (i >= uniforms.T * uniforms.B * uniforms.H) { return; }
  let r = rowOfEntry(i);
  let h = i % uniforms.H;
  let e = i32(st[r * 4]);
  let E = max(e, 0);
  let dd = ldexp(ax[i], -e) - st[r * 4 + 1];
  let own = sc2((gx[h] * dyx[i]) * cf[r * 8 + 2], E - i32(cf[r * 8 + 3]));
  let v = own - dd * pq[r * 2] - pq[r * 2 + 1];
  result[i] = sc2(v, -E);
}
`,
  );
}

/** dgain and dbias ([2, H]): one workgroup per feature, its threads striding over the rows, a tree sum at the end. */
export function affineProgram(H: number, d: KernelDefects): Program {
  return program(
    'affine',
    [2, H],
    ['ax', 'dyx', 'st', 'cf'],
    H,
    TILE,
    `
fn main(index : i32) {
  let h = index / ${TILE};
  let ok = h < uniforms.H;
  let R = uniforms.T * uniforms.B;
  let rE = ${d.firstTileOnly ? `min(R, ${TILE})` : 'R'};
  var sg = 0.0;
  var sb = 0.0;
  if (ok) {
    for (var r = i32(localIndex); r < rE; r = r + ${TILE}) {
      let i = rowOffset(r) + h;
      let z = (ldexp(ax[i], -i32(st[r * 4])) - st[r * 4 + 1]) * cf[r * 8] + cf[r * 8 + 1];
      sg = sg + dyx[i] * z;
      sb = sb + dyx[i];
    }
  }
  let ss = wgSum2(vec2<f32>(sg, sb));
  if (ok && localIndex == 0u) {
    result[h] = ss.x;
    result[uniforms.H + h] = ss.y;
  }
}
`,
    d.firstTileOnly ? '_tile1' : '',
  );
}
