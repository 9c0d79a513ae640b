import type { Condition } from '../translator/conditions.ts';

export interface TimedCondition extends Condition {
  lastTransitionTime: string;
}

/**
 * Stamps lastTransitionTime the way metav1.Condition expects: kept from the current condition of the
 * same type while its status is unchanged, set to `now` when the status flips or the type is new.
 */
export function stampConditions(
  desired: readonly Condition[],
  current: readonly Partial<TimedCondition>[] | undefined,
  now: string,
): TimedCondition[] {
  return desired.map((c) => {
    const previous = current?.find((p) => p.type === c.type);
    const kept = previous?.status === c.status && previous.lastTransitionTime;
    return { ...c, lastTransitionTime: kept || now };
  });
}
