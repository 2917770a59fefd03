import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { createGzip, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { findInterruptedSwap, replaceDirAtomic, writeFileAtomic } from './node.js';

/** Every fsync and rename the helpers do, in order (`sync <path>`, `rename <from> -> <to>`). */
const fs = vi.hoisted(() => ({ events: [] as string[], failRename: undefined as ((from: string) => boolean) | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        await sync();
        fs.events.push(`sync ${String(args[0])}`);
      };
      return handle;
    },
    rename: async (from: string, to: string) => {
      if (fs.failRename?.(from)) throw Object.assign(new Error(`injected rename failure: ${from}`), { code: 'EIO' });
      await actual.rename(from, to);
      fs.events.push(`rename ${from} -> ${to}`);
    },
  };
});

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kp-atomic-'));
  fs.events.length = 0;
  fs.failRename = undefined;
});
afterEach(() => {
  fs.failRename = undefined;
});

const big = 'x'.repeat(200_000); // > the 64 KiB write buffer: really reaches the temporary file

describe('writeFileAtomic', () => {
  it('writes through a temporary file, fsynced before the rename, then fsyncs the folder', async () => {
    const file = join(root, 'sub', 'metrics.json');
    await writeFileAtomic(file, '{"a": 1}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"a": 1}\n');
    expect(readdirSync(join(root, 'sub'))).toEqual(['metrics.json']);

    const [syncFile, renameEvent, syncDir] = fs.events;
    const tmp = syncFile.slice('sync '.length);
    expect(basename(tmp)).toMatch(/^\.metrics\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
    expect(renameEvent).toBe(`rename ${tmp} -> ${file}`);
    expect(syncDir).toBe(`sync ${join(root, 'sub')}`);
    expect(fs.events).toHaveLength(3);
  });

  it('replaces the previous content with bytes and with streamed chunks', async () => {
    const file = join(root, 'out.bin');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    function* lines() {
      for (let i = 0; i < 5000; i++) yield `${i},${'y'.repeat(20)}\n`;
    }
    await writeFileAtomic(file, lines());
    const text = readFileSync(file, 'utf8').split('\n');
    expect(text).toHaveLength(5001);
    expect(text[4999]).toBe(`4999,${'y'.repeat(20)}`);
  });

  it('passes the chunks through a transform (gzip)', async () => {
    const file = join(root, 'data.csv.gz');
    await writeFileAtomic(file, ['a,b\n', big, '\n'], { transform: createGzip() });
    expect(gunzipSync(readFileSync(file)).toString('utf8')).toBe(`a,b\n${big}\n`);
  });

  it('keeps the previous content and removes the temporary file when the data source throws midway', async () => {
    const file = join(root, 'history.csv');
    writeFileSync(file, 'old content');
    let seenDuringWrite: string | undefined;
    let tempDuringWrite: string[] = [];
    async function* failing() {
      yield big;
      yield big; // the first chunk is flushed to the temporary file by now
      seenDuringWrite = readFileSync(file, 'utf8');
      tempDuringWrite = readdirSync(root).filter((n) => n.endsWith('.tmp'));
      throw new Error('source broke');
    }
    await expect(writeFileAtomic(file, failing())).rejects.toThrow('source broke');
    expect(seenDuringWrite).toBe('old content');
    expect(tempDuringWrite).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe('old content');
    expect(readdirSync(root)).toEqual(['history.csv']);
    expect(fs.events.some((e) => e.startsWith('rename'))).toBe(false);
  });

  it('keeps the previous content when the transform fails midway', async () => {
    const file = join(root, 'data.gz');
    writeFileSync(file, 'old');
    let passed = 0;
    const breaking = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        passed += chunk.byteLength;
        if (passed > 3 * big.length) done(new Error('transform broke'));
        else done(null, chunk);
      },
    });
    await expect(writeFileAtomic(file, Array.from({ length: 10 }, () => big), { transform: breaking })).rejects.toThrow('transform broke');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['data.gz']);
  });

  it('removes the temporary file when the rename fails', async () => {
    const file = join(root, 'a.json');
    writeFileSync(file, 'old');
    fs.failRename = (from) => from.endsWith('.tmp');
    await expect(writeFileAtomic(file, 'new')).rejects.toThrow('injected rename failure');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['a.json']);
  });
});

describe('replaceDirAtomic', () => {
  const fill = (files: Record<string, string>) => async (dir: string) => {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return Object.keys(files).length;
  };

  it('creates, then replaces a folder; every file is fsynced before the swap; nothing left beside it', async () => {
    const target = join(root, 'runs', 'last');
    expect(await replaceDirAtomic(target, fill({ 'state.json': '1', 'model/model.json': 'm1' }))).toBe(2);
    expect(readFileSync(join(target, 'model', 'model.json'), 'utf8')).toBe('m1');
    fs.events.length = 0;
    await replaceDirAtomic(target, fill({ 'state.json': '2' }));
    expect(readdirSync(target)).toEqual(['state.json']);
    expect(readFileSync(join(target, 'state.json'), 'utf8')).toBe('2');
    expect(readdirSync(join(root, 'runs'))).toEqual(['last']);

    const swapIn = fs.events.findIndex((e) => e.startsWith('rename') && e.endsWith(`-> ${target}`));
    const fileSync = fs.events.findIndex((e) => e.startsWith('sync') && e.endsWith('state.json'));
    expect(fileSync).toBeGreaterThanOrEqual(0);
    expect(fileSync).toBeLessThan(swapIn);
    expect(fs.events.at(-1)).toBe(`sync ${join(root, 'runs')}`);
  });

  it('leaves the previous folder intact and no temporary folder when fill throws midway', async () => {
    const target = join(root, 'model');
    await replaceDirAtomic(target, fill({ 'weights.bin': 'old weights' }));
    const error = replaceDirAtomic(target, async (dir) => {
      writeFileSync(join(dir, 'weights.bin'), 'half');
      throw new Error('serialisation failed');
    });
    await expect(error).rejects.toThrow('serialisation failed');
    expect(readFileSync(join(target, 'weights.bin'), 'utf8')).toBe('old weights');
    expect(readdirSync(root)).toEqual(['model']);
  });

  it('puts the previous folder back when the new one cannot be renamed in', async () => {
    const target = join(root, 'best');
    await replaceDirAtomic(target, fill({ 'state.json': 'old' }));
    fs.failRename = (from) => basename(from).startsWith('.best.tmp-');
    await expect(replaceDirAtomic(target, fill({ 'state.json': 'new' }))).rejects.toThrow('injected rename failure');
    expect(readFileSync(join(target, 'state.json'), 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['best']);
  });
});

describe('findInterruptedSwap', () => {
  it('finds the previous folder a crash left between the two renames, else undefined', async () => {
    const target = join(root, 'last');
    expect(await findInterruptedSwap(target)).toBeUndefined();
    await replaceDirAtomic(target, fill1('old'));
    // What a crash right after `rename(target, backup)` leaves: the backup, no target.
    const { rename } = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
    const backup = join(root, `.last.old-${process.pid}-0badc0de`);
    await rename(target, backup);
    expect(await findInterruptedSwap(target)).toBe(backup);
    expect(await findInterruptedSwap(join(root, 'other'))).toBeUndefined();
  });
});

function fill1(text: string) {
  return async (dir: string) => writeFileSync(join(dir, 'state.json'), text);
}
