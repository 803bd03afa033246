/**
 * atn-kit's own package metadata, found from the running file: sources run from <root>/<folder>/, the build from
 * <root>/dist/<folder>/, an installed package from node_modules/atn-kit/dist/<folder>/, so the nearest package.json
 * named atn-kit above this file is ours.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Found {
  root?: string;
  version: string;
}
let found: Found | undefined;

function find(): Found {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'atn-kit') return { root: dir, version: pkg.version || '0.0.0' };
    } catch {
      // no (readable) package.json here: keep climbing
    }
    if (path.dirname(dir) === dir) return { version: '0.0.0' };
  }
}

/** The folder of atn-kit's package.json (the repository root in a checkout), or undefined when none is found. */
export function packageRoot(): string | undefined {
  return (found ??= find()).root;
}

/** The version in atn-kit's package.json, "0.0.0" when none is found. */
export function packageVersion(): string {
  return (found ??= find()).version;
}
