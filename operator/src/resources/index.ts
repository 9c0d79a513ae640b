export * from './client-traffic-policy.ts';
export * from './core.ts';
export * from './gateway-api.ts';
export * from './kinds.ts';
export * from './meta.ts';
export * from './security-policy.ts';
export * from './sluice-api.ts';
export * from './snapshot.ts';
