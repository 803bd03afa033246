/** ATN-6.9: size limits every target of ours enforces (a foreign port may have its own). */
export const LIMITS = {
  /** Numbers in one request, all arrays together. */
  maxElements: 1 << 20,
  /** Largest window length k. */
  maxK: 1 << 20,
  /** Longest request line in bytes (protocol/server.ts refuses longer lines without parsing them). */
  maxLineBytes: 64 << 20,
  /** Significant digits of a decimal-string input (dtype "decimal"). */
  maxDecimalDigits: 4096,
  /** Largest |exponent| of a decimal string (dtype decimal, ATN-6.10): far inside what the reference computes exactly. */
  maxDecimalExponent: 1_000_000,
  /** Work units of one request (ATN-6.11, workOf below): a few seconds of the exact reference at the limit. */
  maxWork: 1 << 18,
} as const;

/**
 * ATN-6.11: the work of a request in units of about one exact (64-digit) operation of the reference, which costs
 * 2–10 µs (its window statistics are recomputed over every window, so the cost grows with min(k, T)). With
 * k' = min(k, T): ATN ops T·B·H·(k' + 16), the 16 standing for the normalisation of each entry (a square root and
 * divisions at 64 digits, measured at about 16 window entries); ln.forward B·H·17 (k = 1); the ATN-LSTM
 * T·B·(4H·(I + H) + 9H·(k' + 16)): the two matrix products per step plus its three ATNs (widths 4H, 4H and H).
 */
export function workOf(op: 'atn' | 'ln' | 'lstm', d: { T?: number; B: number; H: number; I?: number; k?: number }): number {
  const T = d.T ?? 1;
  const kk = Math.min(d.k ?? 1, T);
  if (op === 'lstm') return T * d.B * (4 * d.H * ((d.I ?? 0) + d.H) + 9 * d.H * (kk + 16));
  return T * d.B * d.H * (kk + 16);
}
