export * from './genai-metrics.ts';
export * from './proxy-metrics.ts';
