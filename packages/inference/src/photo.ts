import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { DataFormatError, DataNotFoundError, type RgbImage } from '@keypoints/core';

/** File extensions `listPhotos` picks from a folder (case-insensitive). */
export const PHOTO_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp'];

/** A decoded photo (EXIF orientation applied, alpha dropped). */
export interface Photo {
  /** The path as given / reached from the arguments (folder included). */
  readonly file: string;
  /** Columns, photo pixels. */
  readonly width: number;
  /** Rows, photo pixels. */
  readonly height: number;
  /** The photo as 8-bit RGB (`[height × width × 3]`), what face detectors take. */
  readonly rgb: RgbImage;
  /**
   * `[height × width]` 8-bit grayscale, decoded as the training faces were (sharp `.greyscale()`,
   * libvips `b-w`; a grey photo is kept as is).
   */
  readonly grey: Uint8Array;
}

/**
 * Decode a JPEG / PNG / WebP (or anything libvips reads) of any size, colour or grey, by content (a
 * `.jpg` holding a PNG is fine).
 *
 * @param file path.
 * @throws {DataNotFoundError} when the file does not exist.
 * @throws {DataFormatError} when it is not a decodable image.
 */
export async function readPhoto(file: string): Promise<Photo> {
  try {
    await stat(file);
  } catch (error) {
    throw new DataNotFoundError(`photo ${file} not found`, { cause: error });
  }
  try {
    const rgb = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const grey = await sharp(file).rotate().removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
    const { width, height } = rgb.info;
    let rgbData = new Uint8Array(rgb.data.buffer, rgb.data.byteOffset, rgb.data.length);
    if (rgb.info.channels !== 3) rgbData = toChannels(rgbData, rgb.info.channels, 3);
    let greyData = new Uint8Array(grey.data.buffer, grey.data.byteOffset, grey.data.length);
    if (grey.info.channels !== 1) greyData = toChannels(greyData, grey.info.channels, 1);
    return { file, width, height, rgb: { data: rgbData, width, height }, grey: greyData };
  } catch (error) {
    throw new DataFormatError({ file }, `cannot decode image: ${(error as Error).message}`, { cause: error });
  }
}

/** Keep the first `to` channels of `from`-channel pixels (repeating the first when `from` < `to`). */
function toChannels(data: Uint8Array, from: number, to: number): Uint8Array {
  const n = data.length / from;
  const out = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) for (let c = 0; c < to; c++) out[i * to + c] = data[i * from + Math.min(c, from - 1)];
  return out;
}

/**
 * The photos named by command-line arguments: a file is taken as it is (whatever its extension); a folder
 * means every file in it with a {@link PHOTO_EXTENSIONS} extension, sorted by name (not recursive). Paths
 * keep the form they were reached by (`dir/name.jpg`), so frames with the same name in two folders stay apart.
 *
 * @throws {DataNotFoundError} when an argument does not exist, or a folder holds no photo.
 */
export async function listPhotos(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let s;
    try {
      s = await stat(input);
    } catch (error) {
      throw new DataNotFoundError(`${input} not found (expected an image file or a folder of images)`, { cause: error });
    }
    if (!s.isDirectory()) {
      out.push(input);
      continue;
    }
    const names = (await readdir(input)).filter((n) => PHOTO_EXTENSIONS.includes(extname(n).toLowerCase())).sort();
    if (names.length === 0) throw new DataNotFoundError(`folder ${input} holds no image (${PHOTO_EXTENSIONS.join(', ')})`);
    for (const n of names) out.push(join(input, n));
  }
  return out;
}
