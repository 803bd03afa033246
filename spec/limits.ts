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
} as const;
