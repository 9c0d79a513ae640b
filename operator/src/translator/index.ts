export * from './conditions.ts';
export * from './status.ts';
export * from './translate.ts';
