/**
 * `mdpipe demo`, what `npm start` runs. With a configuration (`--config`, `./mdpipe.config.json`) or a
 * raw tree where the built-in default looks (`./pretrained_model_collections/`), it builds that. Otherwise
 * it synthesizes both collections into `./demo/` (ignored by git) with `demo/mdpipe.config.json`, once,
 * and builds them; run again, it finds everything fresh and does nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LAYOUT, NOISY_LAYOUT } from '../../config/defaults.js';
import type { CollectionName } from '../../synth/index.js';
import { EXIT } from '../exit-codes.js';
import { displayPath, plural } from '../format.js';
import { invocation } from '../invocation.js';
import { loadProjectConfig } from '../project.js';
import { runPipeline, type RunFlags } from '../run-pipeline.js';
import type { Session } from '../session.js';
import { noiseOf, writeConfigEntry, writeSyntheticTree } from './synth.js';

export interface DemoFlags extends RunFlags {
  /** Where the demo tree, its configuration, outputs and cache go (default `demo`). */
  dir: string;
  axes: 'small' | 'full';
}

const COLLECTIONS: CollectionName[] = ['basic', 'noisy'];

export async function demoCommand(session: Session, flags: DemoFlags): Promise<number> {
  const { terminal } = session;
  const own = session.globals.config ?? (fs.existsSync('mdpipe.config.json') ? 'mdpipe.config.json' : undefined);
  if (own !== undefined || fs.existsSync('pretrained_model_collections')) {
    const config = loadProjectConfig(session);
    if (!flags.json) terminal.err(`demo: building ${config.file ? displayPath(config.file) : 'the raw tree in pretrained_model_collections/ (built-in configuration)'}\n`);
    const run = await runPipeline(session, config, [], flags);
    if (run.code === EXIT.ok && !flags.json && !session.globals.quiet) terminal.out(nextSteps(own === undefined ? undefined : displayPath(config.file!)));
    return run.code;
  }

  const dir = path.resolve(flags.dir);
  const configFile = path.join(dir, 'mdpipe.config.json');
  if (!fs.existsSync(configFile)) {
    terminal.err(
      `demo: no mdpipe.config.json and no pretrained_model_collections/ here, so writing a synthetic raw tree of both collections ` +
        `(${flags.axes} axes) to ${displayPath(dir)}${path.sep} first; this happens once\n`,
    );
    const entries = [];
    for (const collection of COLLECTIONS) {
      const out = path.join(dir, 'raw', collection);
      const written = await writeSyntheticTree(session, { out, collection, axes: flags.axes, seed: 0, progress: flags.progress });
      if (written === 'interrupted') return EXIT.interrupted;
      terminal.err(`demo: wrote ${plural(written.result.folders, `${collection} checkpoint folder`)} to ${displayPath(out)}\n`);
      entries.push({
        collection,
        entry: {
          raw: `raw/${collection}`,
          layout: collection === 'noisy' ? NOISY_LAYOUT : DEFAULT_LAYOUT,
          axes: { bs: [...written.axes.bs], width: [...written.axes.width], data: [...written.axes.data] },
          ...noiseOf(collection),
        },
      });
    }
    // The configuration is written last: an interrupted demo leaves none, and the next one starts over.
    for (const { collection, entry } of entries) await writeConfigEntry(configFile, collection, entry);
  }
  const demoSession: Session = { ...session, globals: { ...session.globals, config: configFile } };
  const config = loadProjectConfig(demoSession);
  const run = await runPipeline(demoSession, config, [], flags);
  if (run.code === EXIT.ok && !flags.json && !session.globals.quiet) terminal.out(nextSteps(displayPath(configFile)));
  return run.code;
}

/** What to try next, with the `--config` the demo needs. */
function nextSteps(configFile: string | undefined): string {
  const c = configFile === undefined || configFile === 'mdpipe.config.json' ? '' : ` --config ${configFile}`;
  const m = invocation();
  const steps: [string, string][] = [
    [`${m} status${c}`, 'every task fresh; change a file and see what goes stale'],
    [`${m} explain grid:basic${c}`, 'why a task would (not) re-run, field by field'],
    [`${m} graph --format mermaid${c}`, 'the task graph'],
    [`${m} run --help`, 'targets, --dry-run, --force, --json'],
  ];
  const width = Math.max(...steps.map(([command]) => command.length));
  return [
    'next, try:',
    ...steps.map(([command, what]) => `  ${command.padEnd(width)}  # ${what}`),
    'your own raw tree: see "Pointing it at your raw tree" in README.md',
    '',
  ].join('\n');
}
