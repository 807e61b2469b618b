import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The sandbox (emulators and SMTP catcher, `sandbox/`) sits beside the service: it may import from `src/`, but
 * nothing under `src/` may import from `sandbox/`, or the image (which builds `src/` only) would miss it.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const SANDBOX = path.join(ROOT, 'sandbox');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return /\.(c|m)?(t|j)sx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports (type-only too), `import()`, `require()`. */
function specifiers(text: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire(?:\.resolve)?\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
}

/** The specifiers in `file` that lead into `sandbox/` (relative ones resolved; bare ones naming `sandbox/`). */
function sandboxImports(file: string, text: string): string[] {
  return specifiers(text).filter((specifier) => {
    if (specifier.startsWith('.')) {
      const target = path.resolve(path.dirname(file), specifier);
      return target === SANDBOX || target.startsWith(SANDBOX + path.sep);
    }
    return /^(?:\.\/)?sandbox(?:\/|$)/.test(specifier) || specifier.includes('/sandbox/');
  });
}

describe('the sandbox beside the service', () => {
  it('finds an import into sandbox/ in every form it can take', () => {
    const file = path.join(SRC, 'api', 'example.ts');
    const text = [
      "import { startLeverEmulator } from '../../sandbox/lever-emulator';",
      "import type { RunningServer } from '../../sandbox/kit';",
      "export { listen } from '../../sandbox/kit';",
      "const smtp = require('../../sandbox/smtp-catcher');",
      "const later = await import('../../sandbox/certn-emulator');",
      "import { z } from 'zod';",
      "import { hmacSha256Hex } from '../integrations/signature';",
    ].join('\n');
    expect(sandboxImports(file, text)).toEqual([
      '../../sandbox/lever-emulator',
      '../../sandbox/kit',
      '../../sandbox/kit',
      '../../sandbox/certn-emulator',
      '../../sandbox/smtp-catcher',
    ]);
  });

  it('no file under src/ imports from sandbox/', () => {
    const files = filesUnder(SRC);
    expect(files.length).toBeGreaterThan(50);
    const offending = files.flatMap((file) =>
      sandboxImports(file, readFileSync(file, 'utf8')).map(
        (specifier) => `${path.relative(ROOT, file)} → ${specifier}`,
      ),
    );
    expect(offending).toEqual([]);
  });

  it('the sandbox holds the emulators and the SMTP catcher, none of them left in src/', () => {
    const sandbox = readdirSync(SANDBOX);
    for (const name of [
      'lever-emulator.ts',
      'ashby-emulator.ts',
      'certn-emulator.ts',
      'justifacts-emulator.ts',
      'victig-emulator.ts',
      'justworks-emulator.ts',
      'smtp-catcher.ts',
    ])
      expect(sandbox).toContain(name);
    expect(filesUnder(SRC).filter((file) => /emulator|smtp-catcher/.test(path.basename(file)))).toEqual([]);
  });
});
