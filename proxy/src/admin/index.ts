export * from './build-admin-server.ts';
