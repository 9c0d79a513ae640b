export * from './proxy-runtime.ts';
