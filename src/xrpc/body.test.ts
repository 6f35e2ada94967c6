import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { limitedBodyStream, readBody } from './body.ts';
import { InvalidRequestError, PayloadTooLargeError } from './errors.ts';

/** A request body the test feeds by hand. */
function fakeRequest(): PassThrough & IncomingMessage {
  return new PassThrough() as PassThrough & IncomingMessage;
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of stream) total += chunk.length;
  return total;
}

describe('request bodies', () => {
  it('a streamed body may take as long as it likes while bytes keep coming', async () => {
    const req = fakeRequest();
    const body = limitedBodyStream(req, 1000, 80);
    const read = drain(body);
    for (let i = 0; i < 5; i++) {
      req.write(Buffer.alloc(10));
      await new Promise((r) => setTimeout(r, 40));
    }
    req.end();
    assert.equal(await read, 50);
  });

  it('a streamed body that stalls is cut off with 400, and one over the limit with 413', async () => {
    const stalled = fakeRequest();
    const body = limitedBodyStream(stalled, 1000, 50);
    stalled.write(Buffer.alloc(10));
    await assert.rejects(drain(body), (err) => err instanceof InvalidRequestError && /stalled/.test(err.message));
    assert.ok(stalled.destroyed);

    const big = fakeRequest();
    const limited = limitedBodyStream(big, 15, 1000);
    big.write(Buffer.alloc(10));
    big.write(Buffer.alloc(10));
    await assert.rejects(drain(limited), PayloadTooLargeError);
  });

  it('a buffered body must arrive whole before its deadline', async () => {
    const req = fakeRequest();
    req.write(Buffer.from('{"a":'));
    await assert.rejects(readBody(req, 1000, 50), (err) => err instanceof InvalidRequestError && /too long/.test(err.message));
    const fine = fakeRequest();
    fine.end(Buffer.from('{"a":1}'));
    assert.equal((await readBody(fine, 1000, 1000)).toString(), '{"a":1}');
  });
});
