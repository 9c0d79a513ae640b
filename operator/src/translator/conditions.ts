/** A metav1.Condition without lastTransitionTime: the status writer stamps time, keeping this pure. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
}

export function condition(
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation ?? 0 };
}
