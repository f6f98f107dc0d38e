/**
 * The file watcher behind `mdpipe watch`: @parcel/watcher (native: inotify on Linux, one watch per
 * folder, the tree walked in C++), one subscription per raw root.
 *
 * Chosen by measurement (bench/watchers.ts, on trees in the dataset's layout; figures in the README): at
 * full size (20k files) it starts in 1.3 s holding 18 MB, chokidar 4 in 15 s holding 257 MB, because
 * chokidar puts an inotify watch on every file as well as every folder; at 200k files chokidar runs out
 * of watches (ENOSPC past fs.inotify.max_user_watches, 192,530 here).
 *
 * @parcel/watcher has one known gap that matters here (parcel-bundler/watcher#97, open): on Linux, folders
 * made by `mkdir -p` / `os.makedirs` below the first new one are not watched, so files later written into
 * a new checkpoint folder would go unreported. Re-subscribing the root does not help (parcel shares one
 * watcher per folder). So the caller watches each checkpoint folder that appears after start-up itself,
 * with `fs.watch` (`watchFolder`), and checks the files' mtime and ctime when it discovers a new folder,
 * which covers what was written before that watch took effect.
 *
 * It reports paths only; what they mean is `folders.ts`'s business.
 */
import { watch } from 'node:fs';
import { createRequire } from 'node:module';

export interface FsChange {
  path: string;
  type: 'create' | 'update' | 'delete';
}

export interface FsWatch {
  close(): Promise<void>;
}

type ParcelWatcher = typeof import('@parcel/watcher');
type Subscription = Awaited<ReturnType<ParcelWatcher['subscribe']>>;

/**
 * Watches every root (recursively); resolves once every root is watched.
 * @param onChanges changes, as the watcher delivers them
 * @param onError the watcher lost track (an inotify queue overflow, no watch left, a root removed): the
 *   caller should check the whole tree again
 */
export async function watchTrees(roots: readonly string[], onChanges: (changes: FsChange[]) => void, onError: (error: Error) => void): Promise<FsWatch> {
  // Through require: the bundle (bin/bundle.mjs) keeps this native package external.
  const watcher = createRequire(import.meta.url)('@parcel/watcher') as ParcelWatcher;
  const subscriptions: Subscription[] = [];
  const close = async (): Promise<void> => {
    // Dropping a watch whose folder is gone fails (EINVAL): nothing left to clean up then.
    await Promise.all(subscriptions.splice(0).map((s) => s.unsubscribe().catch(() => {})));
  };
  try {
    for (const root of roots) {
      subscriptions.push(
        await watcher.subscribe(root, (error, events) => {
          if (error) onError(error);
          else if (events.length > 0) onChanges(events);
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { close };
}

/**
 * Watches one folder (not recursively) with `fs.watch`: for checkpoint folders made after start-up, which
 * @parcel/watcher may not watch (see above). Reports the folder on every change in it; stops by itself
 * when the folder goes.
 */
export function watchFolder(folder: string, onChange: () => void): FsWatch {
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(folder, { persistent: false }, () => onChange());
    watcher.on('error', () => watcher?.close());
  } catch {
    // Gone already: the caller finds that out when it discovers the tree again.
  }
  return { close: async () => watcher?.close() };
}
