/**
 * Crash-safe writes, the one place the project does them: {@link writeFileAtomic} for a file,
 * {@link replaceDirAtomic} for a folder (a model, a checkpoint), {@link findInterruptedSwap} to
 * recover from a crash between the two renames of a folder swap. Node only (`node:fs`): exported
 * from `@keypoints/core/node`, not from the browser-safe `@keypoints/core`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * What {@link writeFileAtomic} writes: the whole content at once, or chunks (a generator, a
 * `Readable`) that are streamed to the file without holding it all in memory.
 */
export type AtomicFileData = string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** A stream the data passes through on its way to the file, e.g. `createGzip()`. */
  readonly transform?: NodeJS.ReadWriteStream;
}

/** Bytes gathered from a chunked source before one `write` to the temporary file. */
const WRITE_BUFFER_BYTES = 1 << 16;

/**
 * Write `data` to `file` so that, whatever happens (an exception midway, a crash, a power cut
 * after it returned), `file` holds either its previous content or all of `data`, never a part.
 *
 * How: the data goes to a temporary file in the same folder (`.<name>.<pid>.<random>.tmp`), which
 * is fsynced and closed, then renamed over `file`; then the folder is fsynced so the rename itself
 * is durable (best effort: skipped where the platform cannot fsync a folder, e.g. Windows). On
 * failure the temporary file is removed and the error rethrown. Missing folders are created.
 * Strings are written as UTF-8. Two concurrent writes to one file: the last rename wins, each
 * result complete.
 *
 * @param file the destination path.
 * @param data the content: a string, bytes, or an (async) iterable of chunks (a generator, a
 *   `Readable`); an error thrown by the iterable aborts the write.
 * @param options see {@link WriteFileAtomicOptions}.
 * @throws the file system's error (e.g. `EACCES`, `ENOSPC`, `EISDIR` when `file` is a folder) or
 *   the error of `data` / `transform`; `file` is then unchanged and no temporary file remains.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from '@keypoints/core/node';
 * await writeFileAtomic('runs/net1/metrics.json', JSON.stringify(metrics, null, 2) + '\n');
 * ```
 */
export async function writeFileAtomic(file: string, data: AtomicFileData, options: WriteFileAtomicOptions = {}): Promise<void> {
  const target = resolve(file);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx');
    await writeAll(handle, data, options.transform);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

async function writeAll(handle: FileHandle, data: AtomicFileData, transform: NodeJS.ReadWriteStream | undefined): Promise<void> {
  const whole = typeof data === 'string' || data instanceof Uint8Array;
  if (whole && transform === undefined) {
    await handle.writeFile(data);
    return;
  }
  const source = whole ? [data] : data;
  const sink = async (chunks: AsyncIterable<string | Uint8Array>): Promise<void> => {
    let pending: Buffer[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      await handle.writeFile(pending.length === 1 ? pending[0] : Buffer.concat(pending, size));
      pending = [];
      size = 0;
    };
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      pending.push(bytes);
      size += bytes.byteLength;
      if (size >= WRITE_BUFFER_BYTES) await flush();
    }
    await flush();
  };
  if (transform === undefined) await pipeline(source, sink);
  else await pipeline(source, transform, sink);
}

/** The mode a new folder asks for before the umask (`mkdir`'s default). */
const DIR_MODE = 0o777;

/**
 * The process's file-mode creation mask (e.g. 0o022), read with `process.umask()`
 * and no argument (allowed in worker threads, unlike setting it).
 */
function currentUmask(): number {
  return process.umask();
}

/**
 * Replace the folder `target` with a new one, atomically: `fill` writes the new content into a
 * fresh temporary sibling folder (`.<name>.tmp-XXXXXX`); every file and folder in it is then
 * fsynced, the current `target` (if any) is renamed to `.<name>.old-<pid>-<random>`, the new folder
 * renamed to `target`, the parent folder fsynced, and the old folder removed.
 *
 * Guarantees: when `fill` (or any step) throws, `target` is unchanged and the temporary folder is
 * removed. A crash leaves either the previous or the new `target` complete — or, in the instant
 * between the two renames, no `target` and the complete previous folder beside it, which
 * {@link findInterruptedSwap} finds. Missing parent folders are created. Not safe for two
 * concurrent replacements of one `target`.
 *
 * @param target the folder to create or replace (its whole content is replaced: check first that
 *   it holds nothing else worth keeping).
 * @param fill writes the new content into the folder it is given; its result is returned.
 * @returns what `fill` returned.
 * @throws what `fill` throws, or the file system's error (e.g. `EACCES`, `ENOSPC`, `ENOTDIR`).
 *
 * @example
 * ```ts
 * import { replaceDirAtomic } from '@keypoints/core/node';
 * await replaceDirAtomic('runs/net1/checkpoints/last', async (tmp) => {
 *   await writeFile(join(tmp, 'state.json'), json);
 * });
 * ```
 */
export async function replaceDirAtomic<T>(target: string, fill: (dir: string) => Promise<T>): Promise<T> {
  const dest = resolve(target);
  const parent = dirname(dest);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${basename(dest)}.tmp-`));
  // mkdtemp makes the folder 0700; the result must read like a folder made by mkdir (0755 with
  // the usual umask 022), or a web server running as another user cannot serve a saved model.
  await chmod(tmp, DIR_MODE & ~currentUmask());
  let backup: string | undefined;
  try {
    const result = await fill(tmp);
    await syncTree(tmp);
    if ((await stat(dest).catch(() => undefined)) !== undefined) {
      backup = join(parent, `${OLD_PREFIX(dest)}${process.pid}-${randomBytes(4).toString('hex')}`);
      await rename(dest, backup);
    }
    try {
      await rename(tmp, dest);
    } catch (error) {
      const previous = backup;
      backup = undefined; // from here on never delete it: it is the only complete copy
      if (previous !== undefined) await rename(previous, dest);
      throw error;
    }
    await syncDirectory(parent);
    return result;
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  } finally {
    if (backup !== undefined) await rm(backup, { recursive: true, force: true }).catch(() => undefined);
  }
}

const OLD_PREFIX = (dest: string) => `.${basename(dest)}.old-`;

/**
 * The previous folder a crash left beside `target` between the two renames of
 * {@link replaceDirAtomic} (`.<name>.old-*`; the newest when several), or `undefined`.
 *
 * @param target the folder that {@link replaceDirAtomic} was replacing.
 * @returns the absolute path of the leftover folder, or `undefined` when there is none.
 */
export async function findInterruptedSwap(target: string): Promise<string | undefined> {
  const dest = resolve(target);
  const parent = dirname(dest);
  const prefix = OLD_PREFIX(dest);
  const names = (await readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  let newest: { path: string; mtime: number } | undefined;
  for (const name of names) {
    const path = join(parent, name);
    const st = await stat(path).catch(() => undefined);
    if (st?.isDirectory() && (newest === undefined || st.mtimeMs > newest.mtime)) newest = { path, mtime: st.mtimeMs };
  }
  return newest?.path;
}

/** fsync every file and folder under `dir` (and `dir` itself). */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) await syncFile(path);
  }
  await syncDirectory(dir);
}

async function syncFile(path: string): Promise<void> {
  // Read-only is enough for fsync on POSIX; Windows refuses it (EPERM), as it refuses folders.
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!['EPERM', 'EINVAL', 'EBADF'].includes((error as { code?: string }).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/** Persist a folder's entries (creations, renames). Best effort: not every platform can (Windows). */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync();
  } catch {
    // EISDIR / EPERM / EINVAL where folders cannot be fsynced.
  } finally {
    await handle.close().catch(() => undefined);
  }
}
