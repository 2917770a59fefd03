/**
 * The layering rule of docs/ARCHITECTURE.md, enforced from nx tags: `core` depends on nothing of
 * ours; data, models, reporting on core only; training on core and models; pipeline on those and
 * the backend plugins; inference on core, data, models, reporting and pipeline; plugins on core
 * only; apps and tools compose libraries, and no app depends on another app. Checked on both package.json dependencies and the
 * `@keypoints/*` imports of every source file.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const ALLOWED: Record<string, string[] | '*'> = {
  'scope:core': [],
  'scope:data': ['scope:core'],
  'scope:models': ['scope:core'],
  'scope:reporting': ['scope:core'],
  'scope:training': ['scope:core', 'scope:models'],
  'scope:pipeline': ['scope:core', 'scope:data', 'scope:models', 'scope:training', 'scope:reporting', 'scope:plugin'],
  'scope:inference': ['scope:core', 'scope:data', 'scope:models', 'scope:reporting', 'scope:pipeline'],
  'scope:plugin': ['scope:core'],
  'scope:callback-plugin': ['scope:core', 'scope:training'],
  'scope:app': '*',
  'scope:tools': '*',
};

/** Private test-only tools: any package may devDepend on them; only tests and test helpers import them. */
const TEST_ONLY = ['@keypoints/test-support'];

/** A test or test helper (left out of every build): `*.test.ts`, `*.test-worker.ts`, `test-*.ts`, `testing/`. */
function isTestFile(file: string): boolean {
  return /\.test(-worker)?\.ts$|(^|\/)test-[^/]*\.ts$|\/testing\//.test(file);
}

interface Pkg {
  name: string;
  dir: string;
  scope: string;
  deps: string[];
  devDeps: string[];
}

function packages(): Pkg[] {
  const out: Pkg[] = [];
  for (const group of ['packages', 'plugins', 'tools']) {
    for (const d of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, d);
      const j = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const scope = (j.nx?.tags ?? []).find((t: string) => t.startsWith('scope:'));
      const deps = Object.keys({ ...j.dependencies, ...j.peerDependencies });
      const devDeps = Object.keys({ ...j.devDependencies });
      out.push({ name: j.name, dir, scope, deps, devDeps });
    }
  }
  return out;
}

function sourceImports(dir: string): Array<{ file: string; spec: string }> {
  const out: Array<{ file: string; spec: string }> = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        // Comments (TSDoc @example blocks) are not imports.
        const code = readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        for (const m of code.matchAll(/(?:from|import)\s*\(?\s*'(@keypoints\/[a-z0-9-]+)/g)) {
          out.push({ file: p.slice(ROOT.length), spec: m[1] });
        }
      }
    }
  };
  try {
    walk(join(dir, 'src'));
  } catch {
    /* no src */
  }
  return out;
}

describe('module boundaries', () => {
  const all = packages();
  const scopeOf = new Map(all.map((p) => [p.name, p.scope]));

  it('no app depends on another app', () => {
    for (const p of all.filter((x) => x.scope === 'scope:app')) {
      for (const d of [...p.deps, ...p.devDeps]) expect(scopeOf.get(d), `${p.name} → ${d}`).not.toBe('scope:app');
    }
  });

  it('every package has a known scope tag', () => {
    for (const p of all) expect(Object.keys(ALLOWED), p.name).toContain(p.scope);
  });

  for (const p of all) {
    it(`${p.name} (${p.scope}) depends only on allowed layers and declares what it imports`, () => {
      const allowed = ALLOWED[p.scope];
      const ours = p.deps.filter((d) => d.startsWith('@keypoints/'));
      for (const d of ours) {
        if (allowed !== '*') expect(allowed, `${p.name} → ${d}`).toContain(scopeOf.get(d));
      }
      // Tests may also use packages of their own layer (e.g. the wasm plugin's fallback test uses cpu),
      // and the private test-only tools (TEST_ONLY), which only tests and test helpers may import.
      const oursDev = p.devDeps.filter((d) => d.startsWith('@keypoints/'));
      for (const d of oursDev) {
        if (allowed !== '*' && !TEST_ONLY.includes(d)) expect([...allowed, p.scope], `${p.name} → ${d} (dev)`).toContain(scopeOf.get(d));
      }
      ours.push(...oursDev);
      for (const { file, spec } of sourceImports(p.dir)) {
        if (spec === p.name) continue;
        if (TEST_ONLY.includes(spec)) expect(isTestFile(file), `${file} imports ${spec} (test-only) but is not a test or test helper`).toBe(true);
        if (TEST_ONLY.includes(spec) && p.scope !== 'scope:tools') expect(p.deps, `${p.name} lists ${spec} in dependencies (devDependencies only)`).not.toContain(spec);
        // tests may use sibling plugins of the same layer only if declared
        expect(ours, `${file} imports ${spec}, not declared in ${p.name}'s package.json`).toContain(spec);
      }
    });
  }
});
