import { AtpAgent } from '@atproto/api';
import { startTestPlc, type TestPlc } from './plc.ts';
import { startTestServer, type TestServer } from './server.ts';
import { startSmtpServer, type SmtpTestServer } from './smtp.ts';

/**
 * Several Squall instances on one test PLC directory and one SMTP server, each with a service
 * DID of its own, so that one can be the "other PDS" of a migration into or out of another.
 */
export interface MigrationEnv {
  plc: TestPlc;
  smtp: SmtpTestServer;
  servers: TestServer[];
  close(): Promise<void>;
}

export async function startMigrationEnv(count: number, env: Record<string, string> = {}, perServer: (i: number) => Record<string, string> = () => ({})): Promise<MigrationEnv> {
  const plc = await startTestPlc();
  const smtp = await startSmtpServer();
  const servers: TestServer[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(
      await startTestServer({
        PDS_DID_PLC_URL: plc.url,
        PDS_EMAIL_SMTP_URL: smtp.url,
        PDS_EMAIL_FROM_ADDRESS: `noreply@pds${i}.test`,
        PDS_SERVICE_DID: `did:web:pds${i}.test`,
        ...env,
        ...perServer(i),
      }),
    );
  }
  return {
    plc,
    smtp,
    servers,
    async close() {
      for (const server of servers) await server.close();
      await smtp.close();
      await plc.close();
    },
  };
}

/** A client of `url` logged in as `identifier`. */
export async function loggedIn(url: string, identifier: string, password: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: url });
  await agent.login({ identifier, password });
  return agent;
}

/** Every record of the account as a client lists it: `collection/rkey` → CID. */
export async function recordsOf(agent: AtpAgent, did: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { collections } = (await agent.com.atproto.repo.describeRepo({ repo: did })).data;
  for (const collection of collections) {
    let cursor: string | undefined;
    do {
      const page = (await agent.com.atproto.repo.listRecords({ repo: did, collection, limit: 100, cursor })).data;
      for (const r of page.records) out.set(r.uri.split('/').slice(3).join('/'), r.cid);
      cursor = page.records.length === 100 ? page.cursor : undefined;
    } while (cursor);
  }
  return out;
}
