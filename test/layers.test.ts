/**
 * The folders' layering, checked on the sources: which top-level folder may import which, and that code
 * outside `pipeline/` reaches the engine only through its public API (`pipeline/index.ts`). The rule
 * (README, "For developers"): `cli -> config/tasks -> pipeline -> cache`, `tasks -> dataset -> formats`, with
 * `util/` a leaf that every layer may use. A new import across folders that is not in `ALLOWED` fails
 * here with the file and the import, so a layering leak is a decision made on purpose, not by accident.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** For each product folder, the folders it may import from (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  cli: ['cache', 'config', 'dataset', 'formats', 'pipeline', 'remote', 'synth', 'tasks', 'util'],
  remote: ['cache', 'pipeline', 'tasks', 'util'],
  synth: ['config', 'dataset', 'formats', 'util'],
  config: ['util'],
  tasks: ['config', 'dataset', 'pipeline', 'util'],
  pipeline: ['cache', 'util'],
  cache: ['util'],
  dataset: ['formats', 'util'],
  formats: ['util'],
  util: [],
};

interface Import {
  file: string;
  /** The import as written. */
  specifier: string;
  /** The imported path, relative to the project root (`pipeline/index.js`). */
  target: string;
}

function sourcesOf(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourcesOf(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a source file: static, `export ... from` and dynamic `import('...')`. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(([, specifier]) => ({
    file,
    specifier,
    target: relative(ROOT, normalize(join(ROOT, dirname(file), specifier))).split(sep).join('/'),
  }));
}

const imports = Object.keys(ALLOWED).flatMap(sourcesOf).flatMap(importsOf);
const folderOf = (path: string): string => path.split('/')[0];

it('finds the imports it checks (a pattern that matched nothing would pass any layout)', () => {
  expect(imports.length).toBeGreaterThan(500);
  expect(imports).toContainEqual({ file: 'tasks/export.ts', specifier: '../pipeline/index.js', target: 'pipeline/index.js' });
  // A dynamic import counts too.
  expect(imports.some((i) => i.file === 'tasks/export.ts' && i.target === 'dataset/dictionary-npy.js')).toBe(true);
});

it('each folder imports only from the folders below it', () => {
  const leaks = imports
    .filter((i) => folderOf(i.target) !== folderOf(i.file) && !ALLOWED[folderOf(i.file)].includes(folderOf(i.target)))
    .map((i) => `${i.file} imports ${i.specifier}`);
  expect(leaks).toEqual([]);
});

it('code outside pipeline/ uses the engine through pipeline/index.ts only', () => {
  const internal = imports
    .filter((i) => folderOf(i.file) !== 'pipeline' && folderOf(i.target) === 'pipeline' && i.target !== 'pipeline/index.js')
    .map((i) => `${i.file} imports ${i.specifier}`);
  expect(internal).toEqual([]);
});
