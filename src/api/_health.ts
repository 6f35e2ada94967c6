import { XrpcError } from '../xrpc/index.ts';
import { defineMethod } from './define.ts';
import { checkStorage } from '../admin/health.ts';

export default defineMethod({
  nsid: '_health',
  auth: 'none',
  schema: { kind: 'query', output: { encoding: 'application/json' }, errors: ['ServiceUnavailable'] },
  handler({ ctx }) {
    const problem = checkStorage(ctx);
    if (problem) throw new XrpcError(503, 'ServiceUnavailable', problem);
    return { version: ctx.config.version, status: 'ok' };
  },
});
