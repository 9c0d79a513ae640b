export * from './proxy-metrics.ts';
