/**
 * The house's one direction of dependency (ARCHITECTURE.md): each top-level folder has a rank, and a module may import
 * only its own folder and folders of a LOWER rank. Folders of one rank are peers and never import each other (the
 * implementation under test never sees the oracle; a port never sees either).
 * Test files (*.test.ts) sit above every folder: they may import anything, and nothing imports them.
 * Used by tools/imports.mjs (the CI check and the printed graph) and by the ESLint rule in eslint.config.mjs.
 */
import path from 'node:path';

export const RANKS = {
  util: 0, // nested-array trees, the seeded PRNG, package metadata
  spec: 1, // clause ids, limits (and the normative text, spec/atn.md)
  protocol: 2, // the contract: wire types, errors, argument validation, codec, port runner, server
  reference: 3, // the oracle
  impl: 3, // the tfjs implementation
  ports: 3, // targets in other languages and processes: they import nothing of ours
  mutants: 4, // the catalogue of mistakes and its diagnosis (reuses the reference's tolerance formula)
  properties: 5, // the checks (properties/lib) and the vitest properties
  reports: 6, // diagnosis of a campaign, renderers, vectors
  bench: 7,
  api: 8, // composition roots
  cli: 8,
  bin: 9, // launchers of the built cli and api (dist/)
  esm: 9,
  tools: 9, // the repository's own scripts (the device bundle's entry launches built cli commands)
};

/** The top-level folder a repository-relative path belongs to; dist/<folder>/... counts as <folder>. */
export function folderOf(rel) {
  const parts = rel.split(/[\\/]/);
  if (parts[0] === 'dist' && parts.length > 1) return parts[1];
  if (parts.length > 1) return parts[0];
  return /\.[a-z]+$/i.test(parts[0]) ? undefined : parts[0]; // "reference" (a folder's index), not "package.json"
}

export const isTest = (rel) => /\.test\.[cm]?[tj]s$/.test(rel);

/**
 * Why an import from repository-relative file `from` of repository-relative target `to` breaks the direction, or
 * undefined when it is allowed.
 */
export function violation(from, to) {
  const f = folderOf(from),
    t = folderOf(to);
  if (isTest(to)) return `${from} imports the test file ${to}`;
  if (isTest(from) || f === undefined || t === undefined || f === t) return undefined;
  if (!(f in RANKS)) return `${from}: folder ${f}/ has no rank in tools/layers.mjs`;
  if (!(t in RANKS)) return `${from} imports ${to}: folder ${t}/ has no rank in tools/layers.mjs`;
  if (RANKS[t] < RANKS[f]) return undefined;
  return RANKS[t] === RANKS[f]
    ? `${f}/ and ${t}/ are peers and may not import each other (${from} → ${to})`
    : `upward import ${f}/ (rank ${RANKS[f]}) → ${t}/ (rank ${RANKS[t]}): ${from} → ${to}`;
}

/** Repository-relative target of `spec` imported from repository-relative `from`, or undefined for a package. */
export function resolveSpec(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from.split(path.sep).join('/')), spec));
}
