import { describe, expect, it } from 'vitest';
import { KAGGLE_COLUMNS, KAGGLE_KEYPOINTS } from '@keypoints/core';
import { IBUG68_TO_KAGGLE, ibug68ToKaggle } from './ibug68.js';
import { identityFromFileName } from './landmark-csv.js';
import { toCropPixels } from './crop-rule.js';

/**
 * A hand-made frontal face in image pixels (x right, y down), iBUG-68 order. The subject's right eye
 * (36–41) is on the image's LEFT.
 */
function handMadeFace(): Float64Array {
  const p: Array<[number, number]> = [];
  for (let k = 0; k <= 16; k++) {
    const t = (k / 16) * Math.PI; // jaw: ear (10, 40) → chin (48, 100) → ear (86, 40)
    p.push([48 - 38 * Math.cos(t), 40 + 60 * Math.sin(t)]);
  }
  for (let k = 0; k < 5; k++) p.push([15 + k * 6, 26 - (k === 2 ? 2 : 0)]); // 17–21 right brow, outer → inner
  for (let k = 0; k < 5; k++) p.push([57 + k * 6, 26 - (k === 2 ? 2 : 0)]); // 22–26 left brow, inner → outer
  for (let k = 0; k < 4; k++) p.push([48, 36 + k * 8]); // 27–30 nose bridge, 30 = tip (48, 60)
  for (let k = 0; k < 5; k++) p.push([42 + k * 3, 64]); // 31–35 nostrils
  p.push([22, 38], [27, 35], [33, 35], [37, 38], [33, 41], [27, 41]); // 36–41 right eye (36 outer, 39 inner)
  p.push([59, 38], [63, 35], [69, 35], [74, 38], [69, 41], [63, 41]); // 42–47 left eye (42 inner, 45 outer)
  p.push([33, 76], [38, 73], [43, 72], [48, 72], [53, 72], [58, 73], [63, 76]); // 48–54 upper lip, 48 right corner
  p.push([58, 80], [53, 83], [48, 84], [43, 83], [38, 80]); // 55–59 lower lip, 57 bottom centre
  p.push([36, 76], [43, 75], [48, 75], [53, 75], [60, 76], [53, 78], [48, 79], [43, 78]); // 60–67 inner lip
  expect(p).toHaveLength(68);
  return Float64Array.from(p.flat());
}

describe('iBUG 68 → Kaggle 15 mapping', () => {
  it('maps a hand-made face to the 15 keypoints, left/right being the subject’s', () => {
    const kp = ibug68ToKaggle(handMadeFace());
    const at = (name: string) => [kp[KAGGLE_COLUMNS.indexOf(`${name}_x`)], kp[KAGGLE_COLUMNS.indexOf(`${name}_y`)]];
    expect(at('left_eye_center')[0]).toBeCloseTo((59 + 63 + 69 + 74 + 69 + 63) / 6, 10);
    expect(at('left_eye_center')[1]).toBeCloseTo(38, 10);
    expect(at('right_eye_center')[0]).toBeCloseTo((22 + 27 + 33 + 37 + 33 + 27) / 6, 10);
    expect(at('left_eye_inner_corner')).toEqual([59, 38]);
    expect(at('left_eye_outer_corner')).toEqual([74, 38]);
    expect(at('right_eye_inner_corner')).toEqual([37, 38]);
    expect(at('right_eye_outer_corner')).toEqual([22, 38]);
    expect(at('left_eyebrow_inner_end')).toEqual([57, 26]);
    expect(at('left_eyebrow_outer_end')).toEqual([81, 26]);
    expect(at('right_eyebrow_inner_end')).toEqual([39, 26]);
    expect(at('right_eyebrow_outer_end')).toEqual([15, 26]);
    expect(at('nose_tip')).toEqual([48, 60]);
    expect(at('mouth_left_corner')).toEqual([63, 76]);
    expect(at('mouth_right_corner')).toEqual([33, 76]);
    expect(at('mouth_center_top_lip')).toEqual([48, 72]);
    expect(at('mouth_center_bottom_lip')).toEqual([48, 84]);
    // Subject's left = image right.
    expect(at('left_eye_center')[0]).toBeGreaterThan(at('right_eye_center')[0]);
    expect(at('left_eye_inner_corner')[0]).toBeLessThan(at('left_eye_outer_corner')[0]);
    expect(at('mouth_left_corner')[0]).toBeGreaterThan(at('mouth_right_corner')[0]);
    expect(at('left_eyebrow_outer_end')[0]).toBeGreaterThan(at('right_eyebrow_outer_end')[0]);
  });

  it('covers every Kaggle keypoint with valid 0-based iBUG indices', () => {
    for (const k of KAGGLE_KEYPOINTS) {
      expect(IBUG68_TO_KAGGLE[k].length).toBeGreaterThan(0);
      for (const i of IBUG68_TO_KAGGLE[k]) expect(i >= 0 && i < 68).toBe(true);
    }
  });

  it('rejects a landmark vector of the wrong length', () => {
    expect(() => ibug68ToKaggle(new Float64Array(134))).toThrow(/136/);
  });

  it('maps source pixels into the crop with the pixel-centre convention', () => {
    expect([...toCropPixels([10, 20], { left: 0, top: 0, side: 96 })]).toEqual([10, 20]);
    // A 192-px crop at (100, 50): the centre of its first 2 × 2 source block, (100.5, 50.5), is output pixel 0's centre.
    const [x, y] = toCropPixels([100.5, 50.5], { left: 100, top: 50, side: 192 });
    expect(x).toBeCloseTo(0, 10);
    expect(y).toBeCloseTo(0, 10);
  });

  it('derives the identity from a frame file name', () => {
    expect(identityFromFileName('Kevin_Stadler_31.jpg')).toBe('Kevin_Stadler');
    expect(identityFromFileName('dir/Abdel_Aziz_Al-Hakim_00.jpg')).toBe('Abdel_Aziz_Al-Hakim');
    expect(identityFromFileName('face.png')).toBe('face');
  });
});
