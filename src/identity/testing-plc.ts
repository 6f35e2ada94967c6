// For tests only: a real PLC directory (@did-plc/server, in memory) on a loopback port, and the
// identity pieces pointed at it. Nothing in the server imports this file.
import type { AddressInfo } from 'node:net';
import { createTrustedFetch, type TrustedFetch } from '../net/trusted-fetch.ts';
import { PlcClient } from './plc-client.ts';

export interface TestPlc {
  url: string;
  /** The trusted fetch an operator's configured PLC URL gets (loopback included). */
  fetch: TrustedFetch;
  client: PlcClient;
  close(): Promise<void>;
}

export async function startTestPlc(): Promise<TestPlc> {
  const { PlcServer, Database } = await import('@did-plc/server');
  const server = PlcServer.create({ db: Database.mock(), port: 0 });
  const http = await server.start();
  const { port } = http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const fetch = createTrustedFetch([url]);
  return {
    url,
    fetch,
    client: new PlcClient({ url, fetch }),
    close: async () => {
      http.closeAllConnections();
      await server.destroy();
    },
  };
}
