export * from './budget-metrics.ts';
export * from './genai-metrics.ts';
export * from './guard-metrics.ts';
export * from './proxy-metrics.ts';
export * from './security-metrics.ts';
export * from './traffic-metrics.ts';
