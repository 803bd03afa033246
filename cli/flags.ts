/** A small flag parser: --name value, --name=value, --flag (boolean); positional args are kept in order. */
export interface Parsed {
  flags: Record<string, string | true>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseFlags(argv: string[], booleans: readonly string[] = []): Parsed {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (eq >= 0) flags[name] = a.slice(eq + 1);
    else if (booleans.includes(name)) flags[name] = true;
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
      i++;
    }
  }
  return { flags, positional };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

/**
 * A decimal integer flag, parsed strictly: digits only (an optional minus sign where min < 0), no "", " 7", "1e3",
 * "0x10" or "7.0", within [min, max]. Number("") is 0 and Number("1e9") a valid integer: neither is what was meant.
 */
export function int(p: Parsed, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  return strictInt(v, `--${name}`, min, max);
}

export function strictInt(v: string, what: string, min: number, max: number): number {
  const n = /^-?[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** A number of seconds > 0 (decimal, e.g. 90 or 2.5), at most `max`. */
export function seconds(p: Parsed, name: string, max = 7 * 24 * 3600): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = /^[0-9]{1,9}(\.[0-9]{1,6})?$/.test(v) ? Number(v) : NaN;
  if (!(n > 0 && n <= max)) throw new UsageError(`--${name} must be a number of seconds above 0 and at most ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** Refuses flags the command does not know (a typo must not silently change a campaign). */
export function onlyFlags(p: Parsed, known: readonly string[]): void {
  for (const k of Object.keys(p.flags)) if (!known.includes(k)) throw new UsageError(`unknown flag --${k}; known: ${known.map((x) => '--' + x).join(' ')}`);
}
