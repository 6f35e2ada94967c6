// A local did:plc directory for the account workloads: @did-plc/server on its in-memory database,
// run inside the harness process (it is idle while the load generator runs), bound to 127.0.0.1.
import type { Server } from 'node:http';
import { findFreePort } from './processes.ts';

export interface LocalPlc {
  url: string;
  stop(): Promise<void>;
}

export async function startLocalPlc(): Promise<LocalPlc> {
  // Loaded on demand: the package is large and only the account workloads need it.
  const { PlcServer, Database } = await import('@did-plc/server');
  const port = await findFreePort();
  const plc = PlcServer.create({ db: Database.mock(), port });
  // start() listens on every interface; the benchmarks talk to 127.0.0.1 only.
  const listen = plc.app.listen.bind(plc.app) as (...args: unknown[]) => Server;
  plc.app.listen = ((p: number, ...rest: unknown[]) => listen(p, '127.0.0.1', ...rest)) as typeof plc.app.listen;
  await plc.start();
  return { url: `http://127.0.0.1:${port}`, stop: () => plc.destroy() };
}
