export * from './load-directory.ts';
