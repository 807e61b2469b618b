import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

/**
 * Every package the code reachable from the given entry files imports at run time (type-only imports are erased
 * by the compiler and do not count), following relative imports through `src/`.
 */
function runtimePackages(entries: string[]): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const queue = entries.map((e) => path.join(ROOT, e));
  const importPattern = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...[...text.matchAll(importPattern)].map((m) => m[1]!),
      ...[...text.matchAll(/require(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
    ];
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) {
        const base = path.resolve(path.dirname(file), specifier);
        const target = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(f));
        if (target !== undefined) queue.push(target);
        continue;
      }
      const name = packageOf(specifier.replace(/^node:/, ''));
      if (specifier.startsWith('node:') || builtinModules.includes(name)) continue;
      if (!found.has(name)) found.set(name, path.relative(ROOT, file));
    }
  }
  return found;
}

describe('production dependencies', () => {
  const used = runtimePackages(['src/main.ts', 'src/worker.ts', 'src/db/migrate-cli.ts']);

  it('the API, the worker and the migrator import only production dependencies', () => {
    const notProduction = [...used].filter(([name]) => manifest.dependencies[name] === undefined);
    expect(notProduction).toEqual([]);
    // The walk really follows the service's imports.
    expect([...used.keys()]).toEqual(expect.arrayContaining(['express', 'pg', 'zod', '@temporalio/worker']));
  });

  it('the emulators’ and tests’ packages are development dependencies only', () => {
    for (const name of ['smtp-server', 'mailparser', 'yaml', 'fast-check']) {
      expect({ name, production: manifest.dependencies[name] !== undefined, used: used.has(name) }).toEqual({
        name,
        production: false,
        used: false,
      });
      expect(manifest.devDependencies[name]).toEqual(expect.any(String));
    }
  });
});
