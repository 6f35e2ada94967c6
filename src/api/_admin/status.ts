import { collectStatus } from '../../admin/status.ts';
import { defineMethod } from '../define.ts';

export default defineMethod({
  nsid: '_admin/status',
  auth: 'admin',
  schema: { kind: 'query', output: { encoding: 'application/json' }, errors: [] },
  handler({ ctx }) {
    return collectStatus(ctx);
  },
});
