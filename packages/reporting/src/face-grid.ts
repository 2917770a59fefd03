import sharp from 'sharp';
import { IMAGE_SIZE, KAGGLE_KEYPOINTS } from '@keypoints/core';

/** One face of a grid. Keypoints in **pixels** of the 96×96 frame, Kaggle column order, `NaN` = missing. */
export interface GridFace {
  /** `[9216]` grayscale, either uint8 0..255 or float 0..1. */
  readonly image: Uint8Array | Float32Array;
  /** True keypoints, `[2K]` pixels (drawn as green dots). */
  readonly truth?: ArrayLike<number>;
  /** Predicted keypoints, `[2K]` pixels (drawn as red crosses). */
  readonly predicted?: ArrayLike<number>;
  /** Caption under the face (e.g. its RMSE). */
  readonly caption?: string;
}

/** Options of {@link faceGridSvg}. */
export interface FaceGridOptions {
  /** Faces per row; default 4. */
  readonly columns?: number;
  /** Pixels per image pixel; default 2 (each face drawn at 192×192). */
  readonly scale?: number;
  readonly title?: string;
}

async function pngDataUri(image: Uint8Array | Float32Array): Promise<string> {
  const bytes = image instanceof Uint8Array ? image : Uint8Array.from(image, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
  const png = await sharp(Buffer.from(bytes), { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 } }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * A grid of faces with true keypoints (green dots) and predicted keypoints (red crosses), as SVG
 * text — Nouri 2014's prediction plots. The subject's left keypoints (Kaggle `left_*`) are drawn
 * a little larger so a left/right mix-up is visible.
 */
export async function faceGridSvg(faces: readonly GridFace[], options: FaceGridOptions = {}): Promise<string> {
  const cols = options.columns ?? 4;
  const s = options.scale ?? 2;
  const cell = IMAGE_SIZE * s;
  const pad = 8;
  const captionH = 16;
  const titleH = options.title ? 24 : 0;
  const rows = Math.ceil(faces.length / cols);
  const width = cols * (cell + pad) + pad;
  const height = titleH + rows * (cell + captionH + pad) + pad;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${pad}" y="17" font-family="sans-serif" font-size="14">${escapeXml(options.title)}</text>`);
  for (let i = 0; i < faces.length; i++) {
    const f = faces[i];
    const x0 = pad + (i % cols) * (cell + pad);
    const y0 = titleH + pad + Math.floor(i / cols) * (cell + captionH + pad);
    parts.push(`<image x="${x0}" y="${y0}" width="${cell}" height="${cell}" href="${await pngDataUri(f.image)}" image-rendering="pixelated"/>`);
    const point = (v: ArrayLike<number>, k: number) => [x0 + (v[2 * k] + 0.5) * s, y0 + (v[2 * k + 1] + 0.5) * s];
    const isLeft = (k: number) => (KAGGLE_KEYPOINTS[k] ?? '').startsWith('left_');
    if (f.truth) {
      for (let k = 0; k < f.truth.length / 2; k++) {
        if (!Number.isFinite(f.truth[2 * k])) continue;
        const [x, y] = point(f.truth, k);
        parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${isLeft(k) ? 3 : 2}" fill="#1a9850"/>`);
      }
    }
    if (f.predicted) {
      for (let k = 0; k < f.predicted.length / 2; k++) {
        const [x, y] = point(f.predicted, k);
        const r = isLeft(k) ? 4 : 3;
        parts.push(
          `<path d="M${(x - r).toFixed(1)},${(y - r).toFixed(1)}L${(x + r).toFixed(1)},${(y + r).toFixed(1)}M${(x - r).toFixed(1)},${(y + r).toFixed(1)}L${(x + r).toFixed(1)},${(y - r).toFixed(1)}" stroke="#d73027" stroke-width="1.5"/>`,
        );
      }
    }
    if (f.caption) {
      parts.push(`<text x="${x0}" y="${y0 + cell + 13}" font-family="sans-serif" font-size="11">${escapeXml(f.caption)}</text>`);
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Render SVG text to PNG bytes (sharp / librsvg). @param density DPI; default 96 (1 SVG px = 1 PNG px). */
export async function svgToPng(svg: string, density = 96): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
