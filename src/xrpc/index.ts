export * from './errors.ts';
export * from './types.ts';
export { Registry, type MethodEntry, type RegistryOptions } from './registry.ts';
export { createXrpcController, sendError, type ControllerLogger, type ControllerOptions } from './controller.ts';
export { createSubscriptionUpgrader, encodeErrorFrame, encodeMessageFrame, type SubscriptionOptions } from './subscription.ts';
export { enforceRateLimits, MemoryRateLimiter, type RateLimiter, type RateLimitDecision } from './rate-limit.ts';
export { buildParamsCoercer } from './params.ts';
export { StreamLimits, type StreamLimitOptions, type StreamOutcome } from './stream-limits.ts';
