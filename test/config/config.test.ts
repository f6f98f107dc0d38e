import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { ConfigError } from '../../config/errors.js';
import { parseLayout } from '../../config/layout.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempProject(config: unknown, dirs: string[] = []): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdpipe-config-'));
  made.push(dir);
  for (const d of dirs) fs.mkdirSync(path.join(dir, d), { recursive: true });
  if (config !== undefined) {
    fs.writeFileSync(path.join(dir, 'mdpipe.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  }
  return dir;
}

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const raw = { raw: 'tree', layout: 'd_{data}/bs_{bs}/w{width}/metrics', axes: { bs: [16, 24], width: [2, 3], data: ['10', '09'] } };

describe('loadConfig', () => {
  it('resolves paths relative to the config file and keeps the axes', () => {
    const dir = tempProject({ outDir: 'o', cacheDir: 'c', collections: { basic: raw } }, ['tree']);
    const cfg = loadConfig({ cwd: os.tmpdir(), configPath: path.join(dir, 'mdpipe.config.json') });
    expect(cfg.file).toBe(path.join(dir, 'mdpipe.config.json'));
    expect(cfg.outDir).toBe(path.join(dir, 'o'));
    expect(cfg.cacheDir).toBe(path.join(dir, 'c'));
    const c = cfg.collections[0];
    expect(c.kind).toBe('raw');
    if (c.kind !== 'raw') return;
    expect(c.root).toBe(path.join(dir, 'tree'));
    expect(c.axes).toEqual(raw.axes);
    expect(c.layout.glob).toBe('d_+([0-9])/bs_+([0-9])/w+([0-9])/metrics');
  });

  it('finds ./mdpipe.config.json in the working directory', () => {
    const dir = tempProject({ collections: { basic: raw } }, ['tree']);
    expect(loadConfig({ cwd: dir }).file).toBe(path.join(dir, 'mdpipe.config.json'));
  });

  it('falls back to the built-in default (both collections, published axes) when no file exists', () => {
    const dir = tempProject(undefined, ['pretrained_model_collections/basic_collection', 'pretrained_model_collections/noisy_collection']);
    const cfg = loadConfig({ cwd: dir });
    expect(cfg.file).toBeNull();
    expect(cfg.collections.map((c) => c.name)).toEqual(['basic', 'noisy']);
    const noisy = cfg.collections[1];
    expect(noisy.kind === 'raw' && noisy.layout.template).toBe('different_knobs_subset_noisy_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics');
    expect(noisy.kind === 'raw' && noisy.axes.bs?.length).toBe(13);
  });

  it('accepts a published-grid collection', () => {
    const dir = tempProject({ collections: { published: { grid: 'g.npy' } } });
    fs.writeFileSync(path.join(dir, 'g.npy'), '');
    const cfg = loadConfig({ cwd: dir });
    expect(cfg.collections[0]).toEqual({ name: 'published', kind: 'published', grid: path.join(dir, 'g.npy'), noise: 0 });
  });

  it('reads each collection\'s label noise (default 0, whatever the name) and the plots switch (default off)', () => {
    const dir = tempProject({ plots: true, collections: { noisy: raw, other: { ...raw, noise: 10 } } }, ['tree']);
    const cfg = loadConfig({ cwd: dir });
    expect(cfg.collections.map((c) => [c.name, c.noise])).toEqual([['noisy', 0], ['other', 10]]);
    expect(cfg.plots).toBe(true);
    expect(loadConfig({ cwd: tempProject({ collections: { basic: raw } }, ['tree']) }).plots).toBe(false);
    // The built-in default records the published noisy collection's 10 %.
    const builtIn = loadConfig({ cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'mdpipe-cfg-')), allowMissingInputs: true });
    expect(builtIn.collections.map((c) => [c.name, c.noise])).toEqual([['basic', 0], ['noisy', 10]]);
  });

  it('rejects a noise that is not an integer percent, naming the key', () => {
    for (const noise of [10.5, -1, 101, '10']) {
      const e = configErrorOf(() => loadConfig({ cwd: tempProject({ collections: { basic: { ...raw, noise } } }, ['tree']) }));
      expect(e.key).toBe('collections.basic.noise');
    }
  });

  it('names an unknown key and suggests the right one', () => {
    const dir = tempProject({ outdir: 'o', collections: { basic: raw } }, ['tree']);
    const e = configErrorOf(() => loadConfig({ cwd: dir }));
    expect(e.message).toContain('"outdir"');
    expect(e.message).toContain('did you mean "outDir"');
    expect(e.file).toBe(path.join(dir, 'mdpipe.config.json'));
  });

  it('names an unknown key inside a collection', () => {
    const dir = tempProject({ collections: { basic: { ...raw, layot: 'x' } } }, ['tree']);
    const e = configErrorOf(() => loadConfig({ cwd: dir }));
    expect(e.key).toBe('collections.basic');
    expect(e.message).toContain('did you mean "layout"');
  });

  it('names the key of a wrong type and what was found', () => {
    const dir = tempProject({ collections: { basic: { ...raw, axes: { bs: ['16'] } } } }, ['tree']);
    const e = configErrorOf(() => loadConfig({ cwd: dir }));
    expect(e.key).toBe('collections.basic.axes.bs.0');
    expect(e.problem).toContain('expected number');
    expect(e.problem).toContain('"16"');
  });

  it('rejects a layout without {bs}', () => {
    const dir = tempProject({ collections: { basic: { ...raw, layout: 'd_{data}/w{width}/metrics' } } }, ['tree']);
    const e = configErrorOf(() => loadConfig({ cwd: dir }));
    expect(e.key).toBe('collections.basic.layout');
    expect(e.problem).toContain('no {bs} placeholder');
  });

  it('rejects a missing raw folder, naming it and how to fix it', () => {
    const dir = tempProject({ collections: { basic: raw } });
    const e = configErrorOf(() => loadConfig({ cwd: dir }));
    expect(e.key).toBe('collections.basic.raw');
    expect(e.problem).toContain(path.join(dir, 'tree'));
    expect(e.fix).toContain('mdpipe synth');
  });

  it('reports invalid JSON with the file name', () => {
    const dir = tempProject('{"collections": {,}}');
    const e = configErrorOf(() => loadConfig({ cwd: dir }));
    expect(e.message).toContain('not valid JSON');
    expect(e.message).toContain('mdpipe.config.json');
  });

  it('rejects an explicit --config that does not exist', () => {
    const e = configErrorOf(() => loadConfig({ cwd: os.tmpdir(), configPath: 'nope.json' }));
    expect(e.key).toBe('--config');
  });

  it('names the keys of the object an unknown key is in (issue 14 point 4)', () => {
    const axes = configErrorOf(() => loadConfig({ cwd: tempProject({ collections: { basic: { ...raw, axes: { widht: [2] } } } }, ['tree']) }));
    expect(axes.key).toBe('collections.basic.axes');
    expect(axes.problem).toContain('unknown key "widht"; did you mean "width"?');
    expect(axes.fix).toBe('known keys here: bs, width, data');
    const collection = configErrorOf(() => loadConfig({ cwd: tempProject({ collections: { basic: { ...raw, axis: {} } } }, ['tree']) }));
    expect(collection.fix).toBe('known keys here: raw, layout, axes, noise');
    const both = configErrorOf(() => loadConfig({ cwd: tempProject({ collections: { basic: { ...raw, grid: 'g.npy' } } }, ['tree']) }));
    expect(both.problem).toBe('has both "raw" and "grid"');
    expect(both.fix).toMatch(/^use one of them/);
  });

  it('without a config file, builds the default collections that are there and names the others (point 5)', () => {
    const dir = tempProject(undefined, ['pretrained_model_collections/basic_collection']);
    const cfg = loadConfig({ cwd: dir });
    expect(cfg.collections.map((c) => c.name)).toEqual(['basic']);
    expect(cfg.notFound).toEqual([{ name: 'noisy', root: path.join(dir, 'pretrained_model_collections/noisy_collection') }]);
    expect(configErrorOf(() => loadConfig({ cwd: tempProject(undefined) })).key).toBe('collections.basic.raw');
  });

  it('rejects an empty collections object and a bad collection name', () => {
    expect(configErrorOf(() => loadConfig({ cwd: tempProject({ collections: {} }) })).key).toBe('collections');
    expect(configErrorOf(() => loadConfig({ cwd: tempProject({ collections: { 'a/b': raw } }) })).key).toBe('collections.a/b');
  });
});

describe('parseLayout', () => {
  const layout = parseLayout('different_knobs_subset_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics', 'k');
  it('parses a matching folder and formats it back', () => {
    const c = layout.parse('different_knobs_subset_09/bs_16/normal/ResNet18_w128/metrics');
    expect(c).toEqual({ bs: 16, width: 128, data: '09' });
    expect(layout.format(c!)).toBe('different_knobs_subset_09/bs_16/normal/ResNet18_w128/metrics');
  });
  it('does not take the noisy collection for the basic one', () => {
    expect(layout.parse('different_knobs_subset_noisy_10/bs_16/normal/ResNet18_w2/metrics')).toBeNull();
  });
  it('escapes glob characters in literal parts', () => {
    expect(parseLayout('a(1)/{data}_{bs}_{width}', 'k').glob).toBe('a\\(1\\)/+([0-9])_+([0-9])_+([0-9])');
  });
  it('rejects unknown and repeated placeholders', () => {
    expect(() => parseLayout('{data}/{bs}/{width}/{seed}', 'k')).toThrow(/unknown placeholder \{seed\}/);
    expect(() => parseLayout('{data}/{bs}/{width}/{bs}', 'k')).toThrow(/appears 2 times/);
  });
});
