/**
 * Nested values: numbers (or other leaves) inside arrays and plain objects, the shape every result of the protocol
 * has ({y}, {y, da, dgain, dbias}, {h, c, grads: {...}}). The one set of walks over them, for the suite's own trees;
 * what a port sends is first decoded by protocol/codec.ts, whose walk is iterative because that input is untrusted.
 *
 * Keys are defined, never assigned (defineOwn), so that a key "__proto__" in a port's answer stays an ordinary key.
 */

/** A leaf, an array of trees, or a plain object of trees. */
export type Tree<L> = L | Tree<L>[] | { [key: string]: Tree<L> };

/** Defines `key` as an own data property (a "__proto__" key stays a key). */
export function defineOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** true for a plain object (what JSON.parse and `{...}` make): a container. A BigNumber or a typed array is a leaf. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Where a leaf is: the output's path ("y", "grads.w_xh") and its index inside that output's array. */
export interface TreeAt {
  output: string;
  index: number[];
}

function walk(v: unknown, fn: (leaf: unknown, at?: TreeAt) => unknown, at?: TreeAt): unknown {
  if (Array.isArray(v)) return v.map((x, i) => walk(x, fn, at && { output: at.output, index: [...at.index, i] }));
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) defineOwn(out, k, walk(x, fn, at && { output: at.output ? `${at.output}.${k}` : k, index: [] }));
    return out;
  }
  return fn(v, at);
}

/** The same tree with every leaf mapped through `fn`. */
export function mapTree<R>(v: unknown, fn: (leaf: unknown) => R): Tree<R> {
  return walk(v, fn) as Tree<R>;
}

/** mapTree, telling `fn` where each leaf is. */
export function mapTreeAt<R>(v: unknown, fn: (leaf: unknown, at: TreeAt) => R): Tree<R> {
  return walk(v, fn as (leaf: unknown, at?: TreeAt) => unknown, { output: '', index: [] }) as Tree<R>;
}

/** Leaves of `a` combined with the leaves at the same places of `b` (undefined where `b` has none). */
export function zipTree<R>(a: unknown, b: unknown, fn: (x: unknown, y: unknown) => R): Tree<R> {
  if (Array.isArray(a)) return a.map((x, i) => zipTree(x, Array.isArray(b) ? b[i] : undefined, fn));
  if (isPlainObject(a)) {
    const out: Record<string, unknown> = {};
    const bb = isPlainObject(b) ? b : undefined;
    for (const [k, x] of Object.entries(a)) defineOwn(out, k, zipTree(x, bb && Object.hasOwn(bb, k) ? bb[k] : undefined, fn));
    return out as Tree<R>;
  }
  return fn(a, b);
}

/** The leaves in a fixed order: arrays in index order, objects by sorted key (so unflatten can put them back). */
export function leaves(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (isPlainObject(v)) for (const k of Object.keys(v).sort()) leaves(v[k], out);
  else out.push(v);
  return out;
}

/** leaves' walk of one structure, worked out once: a leaf, a run of n leaves (an array of them), an array, an object. */
type LeafPlan = { leaf: true } | { run: number } | { items: LeafPlan[] } | { keys: string[]; plans: LeafPlan[] };

function leafPlan(v: unknown): LeafPlan {
  if (Array.isArray(v)) return v.some((x) => Array.isArray(x) || isPlainObject(x)) ? { items: v.map(leafPlan) } : { run: v.length };
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return { keys, plans: keys.map((k) => leafPlan(v[k])) };
  }
  return { leaf: true };
}

/**
 * leaves() for many values of one structure (the outputs of repeated runs of one computation): the structure of `like`
 * is walked once; each value then costs its leaves only (no key sorting, no type tests but one check per array). A value
 * of another structure throws.
 */
export function leavesLike(like: unknown): (v: unknown) => unknown[] {
  const plan = leafPlan(like);
  const size = leaves(like).length;
  const bad = () => new Error('leavesLike: the value is not shaped like its model');
  // writes v's leaves into out from index i; returns the index after them
  const walk = (p: LeafPlan, v: unknown, out: unknown[], i: number): number => {
    if ('leaf' in p) out[i++] = v;
    else if ('run' in p) {
      if (!Array.isArray(v) || v.length !== p.run) throw bad();
      for (let j = 0; j < p.run; j++) out[i++] = v[j];
    } else if ('items' in p) {
      if (!Array.isArray(v) || v.length !== p.items.length) throw bad();
      for (let j = 0; j < p.items.length; j++) i = walk(p.items[j], v[j], out, i);
    } else {
      if (!isPlainObject(v)) throw bad();
      for (let j = 0; j < p.keys.length; j++) i = walk(p.plans[j], v[p.keys[j]], out, i);
    }
    return i;
  };
  return (v) => {
    const out = new Array<unknown>(size);
    walk(plan, v, out, 0);
    return out;
  };
}

/** The structure of `like` filled from `flat` in leaves' order, keys in `like`'s own order. */
export function unflatten<V>(like: V, flat: ArrayLike<unknown>): V {
  let i = 0;
  const fill = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(fill);
    if (!isPlainObject(v)) return flat[i++];
    const filled = new Map(
      Object.keys(v)
        .sort()
        .map((k) => [k, fill(v[k])]),
    ); // taken in leaves' order
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) defineOwn(out, k, filled.get(k)); // kept in like's order
    return out;
  };
  return fill(like) as V;
}

/** The lengths along first elements: [T, B, H] for a [T][B][H] array, [] for a leaf (at most `maxDepth` levels). */
export function dims(v: unknown, maxDepth = 64): number[] {
  const out: number[] = [];
  for (let x = v; Array.isArray(x) && out.length < maxDepth; x = x[0]) out.push(x.length);
  return out;
}

/** "[4][2][3]" for a [4][2][3] array, "" for a leaf. */
export function dimsText(v: unknown): string {
  return dims(v)
    .map((d) => `[${d}]`)
    .join('');
}

/** A [T][B][H] array from f(t, b, h, i), i = (t*B + b)*H + h its place in time-major order. */
export function build3(T: number, B: number, H: number, f: (t: number, b: number, h: number, i: number) => number): number[][][] {
  const out: number[][][] = [];
  for (let t = 0; t < T; t++) {
    const m: number[][] = [];
    for (let b = 0; b < B; b++) {
      const row: number[] = [];
      for (let h = 0; h < H; h++) row.push(f(t, b, h, (t * B + b) * H + h));
      m.push(row);
    }
    out.push(m);
  }
  return out;
}

/** A [T][B][H] array mapped elementwise, with the element's place. */
export function map3(a: number[][][], f: (v: number, t: number, b: number, h: number) => number): number[][][] {
  return a.map((m, t) => m.map((row, b) => row.map((v, h) => f(v, t, b, h))));
}

/** A [T][B][H] array's entries in time-major order. */
export function flat3(a: number[][][]): number[] {
  return a.flat(2);
}
