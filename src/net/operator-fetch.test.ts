import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createOperatorFetch } from './operator-fetch.ts';

let server: Server;
let port: number;
before(async () => {
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the fetch for operator-configured services', () => {
  it('reaches a configured service on loopback without the private-network switch', async () => {
    const fetch = createOperatorFetch([`http://127.0.0.1:${port}/`], { allowPrivateNetwork: false });
    assert.equal((await fetch(`http://127.0.0.1:${port}/xrpc/_health`)).text(), 'ok');
  });

  it('still refuses any other non-public host, the same address under another name included', async () => {
    const fetch = createOperatorFetch([`http://127.0.0.1:${port}/`], { allowPrivateNetwork: false });
    await assert.rejects(fetch(`http://localhost:${port}/`), /localhost|loopback|refus|forbidden/i);
    const unconfigured = createOperatorFetch([], { allowPrivateNetwork: false });
    await assert.rejects(unconfigured(`http://127.0.0.1:${port}/`));
  });
});
