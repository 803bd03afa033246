/** Nested [T][B][H] arrays: build, map, flatten. */
import type { Num2, Num3 } from './types';

/** Builds [T][B][H] from f(t, b, h, flatIndex). */
export function build3(T: number, B: number, H: number, f: (t: number, b: number, h: number, i: number) => number): Num3 {
  const out: Num3 = [];
  for (let t = 0; t < T; t++) {
    const m: Num2 = [];
    for (let b = 0; b < B; b++) {
      const row: number[] = [];
      for (let h = 0; h < H; h++) row.push(f(t, b, h, (t * B + b) * H + h));
      m.push(row);
    }
    out.push(m);
  }
  return out;
}

export function map3(a: Num3, f: (v: number, t: number, b: number, h: number) => number): Num3 {
  return a.map((m, t) => m.map((row, b) => row.map((v, h) => f(v, t, b, h))));
}

export function flat3(a: Num3): number[] {
  return a.flat(2);
}
