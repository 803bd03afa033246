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

export function int(p: Parsed, name: string, min = 0): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** Refuses flags the command does not know (a typo must not silently change a campaign). */
export function onlyFlags(p: Parsed, known: readonly string[]): void {
  for (const k of Object.keys(p.flags)) if (!known.includes(k)) throw new UsageError(`unknown flag --${k}; known: ${known.map((x) => '--' + x).join(' ')}`);
}
