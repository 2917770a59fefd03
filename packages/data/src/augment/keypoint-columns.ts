import { ConfigError } from '@keypoints/core';
import type { KeypointSet } from '@keypoints/core';

/** Where the x and y of each keypoint of a set sit among its columns (internal to the augmentations). */
export interface KeypointColumns {
  /** `[K]` 1 where column `j` is an x coordinate (`…_x`), 0 where it is a y (`…_y`). */
  readonly isX: Uint8Array;
  /** `[K / 2]` `(x column, y column)` of each keypoint, in column order of the x. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const cache = new WeakMap<KeypointSet, KeypointColumns>();

/**
 * The x/y layout of a keypoint set's columns, from their names (`<keypoint>_x`, `<keypoint>_y`).
 * Cached per (frozen) set object.
 *
 * @throws {ConfigError} when a column name does not end in `_x` or `_y`, or a keypoint lacks its other
 *   coordinate, or a flip pair is out of range or pairs an x with a y.
 */
export function keypointColumns(set: KeypointSet): KeypointColumns {
  const cached = cache.get(set);
  if (cached !== undefined) return cached;
  const { columns } = set;
  const isX = new Uint8Array(columns.length);
  const points: Array<[number, number]> = [];
  columns.forEach((column, j) => {
    if (column.endsWith('_x')) {
      isX[j] = 1;
      const y = columns.indexOf(`${column.slice(0, -2)}_y`);
      if (y < 0) throw new ConfigError(`keypoint set '${set.name}': column '${column}' has no matching '_y' column`);
      points.push([j, y]);
    } else if (column.endsWith('_y')) {
      if (!columns.includes(`${column.slice(0, -2)}_x`)) {
        throw new ConfigError(`keypoint set '${set.name}': column '${column}' has no matching '_x' column`);
      }
    } else {
      throw new ConfigError(`keypoint set '${set.name}': column '${column}' is neither an x ('…_x') nor a y ('…_y') coordinate`);
    }
  });
  for (const [a, b] of set.flipPairs) {
    if (!(a >= 0 && a < columns.length && b >= 0 && b < columns.length) || isX[a] !== isX[b]) {
      throw new ConfigError(
        `keypoint set '${set.name}': flip pair (${a}, ${b}) must join two x or two y columns among its ${columns.length}`,
      );
    }
  }
  const layout = { isX, points };
  cache.set(set, layout);
  return layout;
}
