import { describe, expect, it } from 'vitest';
import { parseAtnArgs } from '../spec/args';

describe('ATN-6 argument validation', () => {
  it('ATN-6.1 k = 0 is refused naming k and the clause', () => {
    expect(() => parseAtnArgs({ dtype: 'float64', k: 0, eps: 0, a: [[[1, 2]]] }, { dtypes: ['float64'] })).toThrow(/k: .*ATN-6\.1/);
  });
});
