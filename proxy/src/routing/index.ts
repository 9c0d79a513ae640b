export * from './matchers.ts';
export * from './request-view.ts';
export * from './router.ts';
