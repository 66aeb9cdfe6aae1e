/** The Tributary API: zod schemas (the single source of truth), inferred types and helpers. */
export * from './common.ts';
export * from './conditions.ts';
export * from './defaults.ts';
export * from './formats.ts';
export * from './integration.ts';
export * from './policy.ts';
export * from './run.ts';
export * from './validate.ts';
export * from './result.ts';
export * from './run-input.ts';
export * from './webhook.ts';
export * from './webhook-events.ts';
export * from './inbox.ts';
