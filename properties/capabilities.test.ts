/** ATN-8.8 target capabilities: declarations read from hello, generated cases fitted to them, checks that need more skipped. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReference } from '../reference';
import { atnArgs, atnCase, lstmCase, rounder } from './lib/arbitraries';
import { capabilitiesOf, capabilityReason, fitted } from './lib/capabilities';
import type { Hello } from '../protocol/types';

const hello = (extra: Partial<Hello>): Hello => ({ name: 'x', version: '1', protocol: 1, ops: [], dtypes: ['float32'], ...extra });
const ref = createReference();

describe('ATN-8.8 capabilities', () => {
  it('reads k and eps from hello; ignores malformed declarations', () => {
    expect(capabilitiesOf(hello({}))).toEqual({ kMin: 1, kMax: Infinity });
    expect(capabilitiesOf(hello({ k: { max: 1 }, eps: [1e-5] }))).toEqual({ kMin: 1, kMax: 1, eps: [1e-5] });
    expect(capabilitiesOf(hello({ k: { min: 3, max: 2 }, eps: [-1] } as unknown as Partial<Hello>))).toEqual({ kMin: 3, kMax: Infinity });
  });

  it('fitted cases use only the served k and eps (after float32 rounding) and stay valid for the reference', () => {
    const caps = { kMin: 2, kMax: 3, eps: [1e-5] };
    fc.assert(
      fc.property(fitted(fc.record({ c: atnCase('float32', 'general'), l: lstmCase('float32') }), caps, 'float32'), ({ c, l }) => {
        for (const x of [c, l]) {
          expect(x.k).toBeGreaterThanOrEqual(2);
          expect(x.k).toBeLessThanOrEqual(3);
          expect(x.eps).toBe(rounder('float32')(1e-5));
        }
        expect(() => ref.expect('atn.forward', atnArgs('float32', c))).not.toThrow();
      }),
      { seed: 20251126, numRuns: 50 },
    );
  });

  it('a check that sends its own k or eps is skipped with the reason', () => {
    const ln = { kMin: 1, kMax: 1 };
    expect(capabilityReason(ln, { k: [1] }, 'float64')).toBeUndefined();
    expect(capabilityReason(ln, { k: 'free' }, 'float64')).toContain('hello.k');
    expect(capabilityReason(ln, { eps: 'free' }, 'float64')).toBeUndefined();
    const fixed = { kMin: 1, kMax: Infinity, eps: [1e-5] };
    expect(capabilityReason(fixed, { eps: [0] }, 'float64')).toContain('hello.eps');
    expect(capabilityReason(fixed, { eps: 'free' }, 'float64')).toContain('hello.eps');
    expect(capabilityReason(fixed, { eps: [1e-5] }, 'float32')).toBeUndefined();
  });
});
