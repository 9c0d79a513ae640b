export * from './ai-backend.ts';
export * from './budgets.ts';
export * from './schema.ts';
export * from './validate.ts';
