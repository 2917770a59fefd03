import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import type { PhotoPrediction } from './predict-photos.js';

/** Options of {@link drawPhotoPrediction}. */
export interface DrawOptions {
  /** Box colour (SVG colour), default `#00e000`. */
  readonly boxColor?: string;
  /** Keypoint colour, default `#ff2020`. */
  readonly pointColor?: string;
}

/**
 * Write the photo with each face's box (detector box or given box) and its 15 keypoints drawn over it, as a
 * PNG of the photo's own size (an SVG overlay composited with sharp; the photo keeps its colours).
 *
 * @param photoFile the photo to draw on (the prediction's `file`).
 * @param prediction its prediction: boxes `[x, y, w, h]` in edge coordinates, keypoints in photo pixels
 *   (pixel-centre convention, drawn at `x + 0.5, y + 0.5` in SVG's edge frame).
 * @param out the PNG to write (its folder is created).
 */
export async function drawPhotoPrediction(photoFile: string, prediction: PhotoPrediction, out: string, options: DrawOptions = {}): Promise<void> {
  const { width, height } = prediction;
  const boxColor = options.boxColor ?? '#00e000';
  const pointColor = options.pointColor ?? '#ff2020';
  const stroke = Math.max(1, Math.round(Math.max(width, height) / 250));
  const r = Math.max(1.5, Math.max(width, height) / 160);
  const parts: string[] = [];
  for (const face of prediction.faces) {
    const [x, y, w, h] = face.box;
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${boxColor}" stroke-width="${stroke}"/>`);
    for (const p of Object.values(face.keypoints)) {
      if (p === null) continue;
      parts.push(`<circle cx="${p[0] + 0.5}" cy="${p[1] + 0.5}" r="${r}" fill="${pointColor}"/>`);
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
  await mkdir(dirname(out), { recursive: true });
  await sharp(photoFile)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(out);
}
