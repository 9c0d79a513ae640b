export * from './ai-backend.ts';
export * from './budgets.ts';
export * from './guards.ts';
export * from './schema.ts';
export * from './validate.ts';
