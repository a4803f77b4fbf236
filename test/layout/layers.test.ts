/**
 * Layers point one way (DESIGN.md "Layout"): this test reads every import of src/ (static,
 * dynamic and type-only) and fails on a cycle between top-level folders, directly or through
 * others, and on an import that points up the layer order below. Cycles inside one folder (the
 * decoder's tunnel recursion) are fine. A new folder must be placed in LAYERS before it can land.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '../../src');

/**
 * Lowest first; a folder may import only folders of a lower rank. Data flows sources → decode →
 * scheme → rules → detect → mitigate → export; the orchestrators sit on top. `decode` is below
 * `sources` because a reader hands out decoded packets (as gopacket's sources do with its layers).
 */
const LAYERS: Record<string, number> = {
  core: 0,
  model: 1,
  decode: 2,
  sources: 3,
  scheme: 4,
  rules: 5,
  detect: 6,
  mitigate: 7,
  export: 8,
  waf: 9,
  generate: 10,
  // One validated palisade.yaml: it knows each layer's options (detection's today), so it sits
  // above them and below the orchestrators that load it.
  config: 11,
  report: 12,
  proxy: 13,
  incidents: 13,
  analyze: 14,
  server: 15,
  cluster: 15,
  cli: 16,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url/g;

/** Folder → folder edges, each with one file:specifier that makes it. */
export function folderEdges(root: string): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(root)) {
    const from = relative(root, file).split('/')[0] as string;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined || !spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec));
      const to = relative(root, target).split('/')[0] as string;
      if (to === from || to.startsWith('..')) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const out = edges.get(from) as Map<string, string>;
      if (!out.has(to)) out.set(to, `${relative(root, file)}: ${spec}`);
    }
  }
  return edges;
}

/** Strongly connected components with more than one folder (Tarjan), i.e. the cycles. */
export function folderCycles(edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}

describe('layers', () => {
  const edges = folderEdges(SRC);

  it('no two folders of src/ import each other, directly or through others', () => {
    const cycles = folderCycles(edges);
    const shown = cycles.map((c) => `${c.join(' ↔ ')}: ${c.flatMap((a) => c.filter((b) => edges.get(a)?.has(b)).map((b) => `${a}→${b} (${edges.get(a)?.get(b)})`)).join('; ')}`);
    assert.deepEqual(shown, []);
  });

  it('every import points down the layer order', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    assert.deepEqual(
      folders.filter((f) => LAYERS[f] === undefined),
      [],
      'place new folders in LAYERS',
    );
    const upward: string[] = [];
    for (const [from, out] of edges) for (const [to, where] of out) if ((LAYERS[to] as number) >= (LAYERS[from] as number)) upward.push(`${from} → ${to} (${where})`);
    assert.deepEqual(upward, []);
  });

  it('the cycle finder finds a cycle through a third folder, and none in a chain', () => {
    const g = (pairs: [string, string][]) => {
      const m = new Map<string, Map<string, string>>();
      for (const [a, b] of pairs) m.set(a, (m.get(a) ?? new Map()).set(b, 'x'));
      return m;
    };
    assert.deepEqual(
      folderCycles(
        g([
          ['rules', 'mitigate'],
          ['mitigate', 'scheme'],
          ['scheme', 'rules'],
          ['cli', 'rules'],
        ]),
      ),
      [['mitigate', 'rules', 'scheme']],
    );
    assert.deepEqual(
      folderCycles(
        g([
          ['cli', 'rules'],
          ['rules', 'scheme'],
          ['scheme', 'core'],
        ]),
      ),
      [],
    );
  });
});
