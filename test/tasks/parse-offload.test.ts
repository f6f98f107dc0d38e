/**
 * A parse task's run made on the offload thread gives what its `run` gives here: the module its `offload`
 * names (the compiled dataset/parse-folder.js the thread loads) returns, for the same files, exactly the bytes
 * the task's codec makes of `run`'s value and the same notes, and throws where `run` throws.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LAYOUT } from '../../config/defaults.js';
import { parseLayout } from '../../config/layout.js';
import { METRIC_FILES } from '../../dataset/metrics.js';
import type { TaskDeclaration } from '../../pipeline/task.js';
import { synthesize } from '../../synth/index.js';
import { parseTask } from '../../tasks/parse.js';

type Offloaded = (args: unknown, files: ReadonlyMap<string, Uint8Array | null>) => { value: Uint8Array; notes: string[] };

let root: string;
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mdpipe-parse-offload-'));
  await synthesize({ out: root, collection: 'basic', axes: 'small' });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const layout = parseLayout(DEFAULT_LAYOUT, 'layout');
const folders = (): { folder: string; coords: { bs: number; width: number; data: string } }[] => {
  const out = [];
  for (const data of ['10', '05']) for (const bs of [16, 64, 256]) for (const width of [2, 8, 32]) {
    const coords = { bs, width, data };
    out.push({ folder: path.join(root, layout.format(coords)), coords });
  }
  return out;
};

function filesOf(folder: string): Map<string, Buffer | null> {
  return new Map(METRIC_FILES.map((name) => [name, fs.existsSync(path.join(folder, name)) ? fs.readFileSync(path.join(folder, name)) : null]));
}

async function runHere(task: TaskDeclaration, files: Map<string, Buffer | null>): Promise<{ value: Uint8Array; notes: string[] }> {
  const notes: string[] = [];
  const result = await task.run({
    id: task.id, params: task.params, files, upstream: new Map(), signal: new AbortController().signal, note: (m) => void notes.push(m), previous: null,
  });
  return { value: task.codec!.encode(result.value), notes };
}

test('the same bytes and notes for whole folders, folders lacking files and a folder with none', async () => {
  const all = folders();
  // Some files gone (NaN metrics and absence notes), and every file gone (not a checkpoint).
  fs.rmSync(path.join(all[1].folder, 'hessian.pkl'));
  fs.rmSync(path.join(all[1].folder, 'curve_test.npz'));
  for (const name of METRIC_FILES) fs.rmSync(path.join(all[2].folder, name), { force: true });

  const offload = parseTask('basic', all[0].folder, all[0].coords).offload!;
  expect(offload.module).toMatch(/\/dist\/dataset\/parse-folder\.js$/);
  const { runOffloaded } = (await import(offload.module)) as { runOffloaded: Offloaded };
  const notesSeen = new Set<string>();
  for (const { folder, coords } of all) {
    const task = parseTask('basic', folder, coords);
    const files = filesOf(folder);
    const here = await runHere(task, files);
    const there = runOffloaded(task.offload!.args, files);
    expect(Buffer.from(there.value).equals(Buffer.from(here.value))).toBe(true);
    expect(there.notes).toEqual(here.notes);
    for (const note of here.notes) notesSeen.add(note);
  }
  expect([...notesSeen].some((n) => n.startsWith('hessian.pkl absent'))).toBe(true);
});

test('throws where run throws', async () => {
  const [{ folder, coords }] = folders();
  const task = parseTask('basic', folder, coords);
  const files = filesOf(folder);
  files.set('loss_acc.pkl', Buffer.from('not a pickle'));
  const { runOffloaded } = (await import(task.offload!.module)) as { runOffloaded: Offloaded };
  await expect(runHere(task, files)).rejects.toThrow(/loss_acc\.pkl/);
  expect(() => runOffloaded(task.offload!.args, files)).toThrow(/loss_acc\.pkl/);
});
