export * from './header-modifier.ts';
export * from './path-rewrite.ts';
export * from './redirect.ts';
