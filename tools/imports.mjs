#!/usr/bin/env node
/**
 * The folder-level import graph of the repository, checked: fails (exit 1) on an import against the direction of
 * tools/layers.mjs and on any cycle between files (type-only imports included: a cycle of types is still a knot a
 * reader has to untie). `--graph` prints the folder graph with edge counts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderOf, isTest, resolveSpec, violation } from './layers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', 'dist', '.git', 'coverage']);
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;

function files(dir, out = []) {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) files(rel, out);
    else if (CODE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

// import ... from '...', export ... from '...', import '...', import('...'), require('...'), import type too.
const IMPORT =
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** The file an import names: the path itself, or with .ts/.js, or its index; undefined when none exists. */
function resolveFile(target) {
  const stem = target.replace(/\.(js|mjs|cjs)$/, '');
  for (const c of [target, `${stem}.ts`, `${stem}.mts`, `${target}.js`, `${target}.mjs`, `${target}/index.ts`, `${target}/index.js`]) {
    const abs = path.join(root, c);
    if (fs.existsSync(abs) && fs.statSync(abs).isFile()) return c;
  }
  return undefined;
}

const all = files('');
const problems = [];
const edges = new Map(); // "from -> to" folder edges, with counts
const graph = new Map(); // file -> files it imports
for (const from of all) {
  const src = fs.readFileSync(path.join(root, from), 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`])\/\/[^\n]*/g, '$1');
  const out = new Set();
  for (const m of src.matchAll(IMPORT)) {
    const target = resolveSpec(from, m[1] ?? m[2] ?? m[3] ?? m[4]);
    if (target === undefined) continue;
    const why = violation(from, target);
    if (why) problems.push(why);
    const f = folderOf(from) ?? '(root)',
      t = folderOf(target) ?? '(root)';
    const edge = `${isTest(from) ? `${f} (tests)` : f} -> ${t}`;
    if (f !== t) edges.set(edge, (edges.get(edge) ?? 0) + 1);
    const file = resolveFile(target);
    if (file) out.add(file);
  }
  graph.set(from, out);
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let next = 0;
const index = new Map(),
  low = new Map(),
  stack = [],
  onStack = new Set();
function connect(v) {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!index.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const scc = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) problems.push(`import cycle: ${scc.reverse().join(' → ')}`);
  }
}
for (const v of graph.keys()) if (!index.has(v)) connect(v);

if (process.argv.includes('--graph')) for (const [e, n] of [...edges].sort()) console.log(`${e}  (${n})`);
if (problems.length) {
  for (const p of problems) console.error(`✗ ${p}`);
  console.error(`${problems.length} import problem(s) in ${all.length} files (tools/layers.mjs gives the direction)`);
  process.exit(1);
}
console.log(`imports: ${all.length} files, ${edges.size} folder edges, no cycle, none against the direction of tools/layers.mjs`);
