export * from './log-sink.ts';
