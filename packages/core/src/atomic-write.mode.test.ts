import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceDirAtomic, writeFileAtomic } from './node.js';

describe('replaceDirAtomic / writeFileAtomic: modes like a plain mkdir / writeFile (not mkdtemp 0700)', () => {
  it('a replaced folder is 0777 & ~umask (0755 with umask 022), its files 0666 & ~umask (0644)', async () => {
    const umask = process.umask();
    const root = await mkdtemp(join(tmpdir(), 'kp-mode-'));
    const target = join(root, 'model');
    for (let round = 0; round < 2; round++) {
      // The second round replaces an existing folder.
      await replaceDirAtomic(target, async (tmp) => {
        await writeFile(join(tmp, 'model.json'), '{}');
      });
      expect((await stat(target)).mode & 0o777).toBe(0o777 & ~umask);
      expect((await stat(join(target, 'model.json'))).mode & 0o777).toBe(0o666 & ~umask);
    }
    if (umask === 0o022) expect((await stat(target)).mode & 0o777).toBe(0o755);
    await writeFileAtomic(join(root, 'metrics.json'), '{}');
    expect((await stat(join(root, 'metrics.json'))).mode & 0o777).toBe(0o666 & ~umask);
  });
});
