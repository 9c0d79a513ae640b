export * from './load-directory.ts';
export * from './watch-directory.ts';
