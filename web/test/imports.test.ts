/**
 * web/src has no import cycle. A cycle (App.tsx <-> RoomPage.tsx through
 * Loading was the last one) makes module order matter: a component read
 * before its module has run is `undefined`, and only some bundles show it.
 * Type-only and dynamic imports count too, so the modules stay in layers.
 */
import { describe, expect, it } from 'vitest';

/** Every module of web/src, by its path from web/ ("src/components/App.tsx"), with its text. */
const SOURCES = Object.fromEntries(
  Object.entries(
    import.meta.glob('../src/**/*.{ts,tsx}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>,
  ).map(([path, text]) => [path.replace(/^\.\.\//, ''), text]),
);

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** "src/components/App.tsx" + "../lib/x" -> "src/lib/x" */
function join(fromFile: string, spec: string): string {
  const parts = fromFile.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}

/** Each module -> the modules of the same tree it imports (packages are left out). */
function importGraph(sources: Readonly<Record<string, string>>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, raw] of Object.entries(sources)) {
    const text = raw.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const deps = new Set<string>();
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      // packages, and assets such as styles.css, cannot take part in a cycle
      if (!spec.startsWith('.') || /\.(css|svg|png|json)(\?.*)?$/.test(spec)) continue;
      const base = join(file, spec);
      const target = [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`].find((p) => p in sources);
      if (!target) throw new Error(`${file} imports ${spec}, which is not a module of the tree`);
      deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Every cycle a depth-first walk meets, each as the chain of modules that closes it. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('the import graph of web/src', () => {
  it('has no cycle', () => {
    // Given every module of web/src and what it imports
    const graph = importGraph(SOURCES);
    expect(graph.size).toBeGreaterThan(40);
    expect(graph.get('src/components/RoomPage.tsx')).toContain('src/components/Loading.tsx');
    // When it is walked
    const cycles = findCycles(graph);
    // Then no module reaches itself again
    expect(cycles).toEqual([]);
  });

  it('finds a cycle like the old App <-> RoomPage one, through type-only and dynamic imports too', () => {
    // Given a tree where App imports RoomPage and RoomPage imports App back,
    // a.ts imports b's types while b.ts loads a.ts lazily, and c.ts's other
    // imports are commented out
    const tree = {
      'src/components/App.tsx': "import { RoomPage } from './RoomPage';\nexport function Loading() {}\n",
      'src/components/RoomPage.tsx': "import { h } from 'preact';\nimport {\n  Loading,\n} from './App';\n",
      'src/a.ts': "import type { B } from './b';\n",
      'src/b.ts': "export const load = () => import('./a');\n",
      'src/c.ts': "// import { A } from './a';\n/* import { B } from './b'; */\nimport './a';\nimport './c.css';\n",
    };
    // When its import graph is walked
    const graph = importGraph(tree);
    const cycles = findCycles(graph);
    // Then both cycles are reported, and c.ts is in none
    expect(cycles.sort()).toEqual([
      'src/a.ts -> src/b.ts -> src/a.ts',
      'src/components/App.tsx -> src/components/RoomPage.tsx -> src/components/App.tsx',
    ]);
    expect(graph.get('src/c.ts')).toEqual(['src/a.ts']);
  });
});
