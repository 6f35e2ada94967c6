import { collectDefaultMetrics, Registry } from './prom.ts';

let shared: Registry | undefined;

/**
 * Process metrics (CPU, resident memory, heap, event-loop delay, GC, handles): one set per
 * process, shared by every server in it, since they describe the process, not a server.
 */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared, prefix: '', eventLoopMonitoringPrecision: 10 });
  }
  return shared;
}
