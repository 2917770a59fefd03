import { describe, expect, it } from 'vitest';
import { equalTimeTable, splitEqualTime } from './specialists-equal-time.js';

describe('specialists at equal time', () => {
  it('splits the budget: base share, then six specialists `workers` at a time', () => {
    expect(splitEqualTime(30, 0.5, 2)).toEqual({ baseMinutes: 15, specialistsMinutes: 15, perSpecialistMinutes: 5 });
    // 6 specialists on 4 workers: 2 waves.
    expect(splitEqualTime(20, 0.75, 4).perSpecialistMinutes).toBeCloseTo(2.5, 12);
    expect(splitEqualTime(12, 0.5, 6).perSpecialistMinutes).toBe(6);
    expect(() => splitEqualTime(30, 1, 2)).toThrow(/share must be in \(0, 1\)/);
    expect(() => splitEqualTime(0, 0.5, 2)).toThrow(/minutes must be > 0/);
    expect(() => splitEqualTime(30, 0.5, 1.5)).toThrow(/workers/);
  });

  it('tabulates each arm against the recommended net alone', () => {
    const arm = (arm: 'base' | 'base + specialists' | 'alone', rmse: number) => ({ arm, runDir: arm, wallMinutes: 15, validRmsePx: rmse, perKeypointRmsePx: {} });
    const lines = equalTimeTable([arm('base', 2.2), arm('base + specialists', 2.1), arm('alone', 2.0)]).split('\n');
    expect(lines[2]).toBe('| base | 15.0 | 2.200 | 10.0 % |');
    expect(lines[3]).toBe('| base + specialists | 15.0 | 2.100 | 5.0 % |');
    expect(lines[4]).toBe('| alone | 15.0 | 2.000 | 0.0 % |');
  });
});
