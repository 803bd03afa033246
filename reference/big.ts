/** The number types of the reference, apart so that convert.ts and math.ts both use them without importing each other. */
import type { Decimal } from 'decimal.js';

/** A BigNumber (mathjs's BigNumber is a decimal.js Decimal). */
export type Big = Decimal;
/** The BigNumber constructor of one context (a decimal.js clone with that context's precision). */
export type BigCtor = typeof Decimal;
