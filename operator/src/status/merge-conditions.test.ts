import { describe, expect, it } from 'vitest';
import { condition } from '../translator/conditions.ts';
import { stampConditions } from './merge-conditions.ts';

describe('stampConditions', () => {
  const earlier = '2026-01-01T00:00:00Z';
  const now = '2026-06-01T00:00:00Z';

  it('keeps the transition time while a condition keeps its status, even if its reason changes', () => {
    const [c] = stampConditions(
      [condition('Accepted', true, 'Accepted', 'fine', 2)],
      [{ type: 'Accepted', status: 'True', reason: 'Old', lastTransitionTime: earlier }],
      now,
    );
    expect(c).toMatchObject({ reason: 'Accepted', observedGeneration: 2, lastTransitionTime: earlier });
  });

  it('stamps now when the status flips or the condition is new', () => {
    const stamped = stampConditions(
      [
        condition('Accepted', false, 'Invalid', 'bad', 1),
        condition('Programmed', true, 'Programmed', 'ok', 1),
      ],
      [{ type: 'Accepted', status: 'True', lastTransitionTime: earlier }],
      now,
    );
    expect(stamped.map((c) => c.lastTransitionTime)).toEqual([now, now]);
  });
});
