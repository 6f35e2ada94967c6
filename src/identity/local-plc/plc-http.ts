// The PLC directory HTTP API over the built-in directory: `GET /:did`, `/:did/data`, `/:did/log`,
// `/:did/log/audit`, `/:did/log/last`, `POST /:did`, `GET /export`, `GET /_health`, with the
// public directory's statuses (404 not registered, 410 tombstoned, 400 refused operation).
// `answerPlcRequest` knows no sockets: the HTTP server below and Squall's own in-process client
// (plc-in-process.ts) both go through it, so the PDS uses exactly what it serves.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../../net/node-http.ts';
import { DidDeactivatedError, DidNotFoundError, InvalidDidError, PlcOperationError } from '../errors.ts';
import type { LocalPlcDirectory } from './plc-directory.ts';

export interface PlcHttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** An operation is at most 7500 bytes of DAG-CBOR; its JSON a little more. */
export const MAX_PLC_REQUEST_BYTES = 64 * 1024;
const MAX_EXPORT_COUNT = 1000;

const json = (status: number, value: unknown, contentType = 'application/json'): PlcHttpAnswer => ({ status, contentType, body: JSON.stringify(value) });
const message = (status: number, text: string): PlcHttpAnswer => json(status, { message: text });

export async function answerPlcRequest(directory: LocalPlcDirectory, method: string, url: URL, body?: string): Promise<PlcHttpAnswer> {
  let segments: string[];
  try {
    segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return message(400, 'malformed path');
  }
  try {
    if (method === 'GET' || method === 'HEAD') {
      if (segments.length === 1 && segments[0] === '_health') return json(200, { version: 'squall-local-plc' });
      if (segments.length === 1 && segments[0] === 'export') return exportAnswer(directory, url.searchParams);
      const [did, ...rest] = segments;
      switch (rest.join('/')) {
        case '':
          return json(200, await directory.document(did), 'application/did+ld+json');
        case 'data':
          return json(200, await directory.data(did));
        case 'log':
          return json(200, await directory.log(did));
        case 'log/audit':
          return json(200, await directory.auditLog(did));
        case 'log/last':
          return json(200, await directory.lastOperation(did));
        default:
          return message(404, 'not found');
      }
    }
    if (method === 'POST' && segments.length === 1) {
      let op: unknown;
      try {
        op = JSON.parse(body ?? '');
      } catch {
        return message(400, 'the body is not JSON');
      }
      await directory.submit(segments[0], op);
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' };
    }
    return message(405, 'method not allowed');
  } catch (err) {
    if (err instanceof DidDeactivatedError) return message(410, err.message);
    if (err instanceof DidNotFoundError) return message(404, err.message);
    if (err instanceof InvalidDidError || err instanceof PlcOperationError) return message(400, err.message);
    throw err;
  }
}

async function exportAnswer(directory: LocalPlcDirectory, params: URLSearchParams): Promise<PlcHttpAnswer> {
  const count = Number(params.get('count') ?? MAX_EXPORT_COUNT);
  if (!Number.isSafeInteger(count) || count < 1) return message(400, 'invalid count parameter');
  const afterParam = params.get('after');
  const after = afterParam === null ? undefined : new Date(afterParam);
  if (after !== undefined && Number.isNaN(after.getTime())) return message(400, 'invalid after parameter');
  const entries = await directory.export(after, Math.min(count, MAX_EXPORT_COUNT));
  return { status: 200, contentType: 'application/jsonlines', body: entries.map((e) => JSON.stringify(e)).join('\n') };
}

/** Serves the directory on its own HTTP server (the official clients want it at the root of an origin). */
export function createPlcHttpServer(directory: LocalPlcDirectory, onError: (err: unknown) => void): Server {
  return http.createServer({ requestTimeout: 30_000, headersTimeout: 20_000 }, (req, res) => {
    handle(directory, req, res).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) send(res, message(500, 'internal error'));
      else res.destroy();
    });
  });
}

async function handle(directory: LocalPlcDirectory, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://plc.invalid');
  let body: string | undefined;
  if (req.method === 'POST') {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_PLC_REQUEST_BYTES) {
      res.setHeader('connection', 'close');
      return send(res, message(413, `an operation is at most ${MAX_PLC_REQUEST_BYTES} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_PLC_REQUEST_BYTES) {
        res.setHeader('connection', 'close');
        return send(res, message(413, `an operation is at most ${MAX_PLC_REQUEST_BYTES} bytes`));
      }
      chunks.push(chunk);
    }
    body = Buffer.concat(chunks).toString('utf8');
  }
  send(res, await answerPlcRequest(directory, req.method ?? 'GET', url, body), req.method === 'HEAD');
}

function send(res: ServerResponse, answer: PlcHttpAnswer, headOnly = false): void {
  res.statusCode = answer.status;
  res.setHeader('content-type', answer.contentType);
  res.setHeader('content-length', Buffer.byteLength(answer.body));
  res.setHeader('access-control-allow-origin', '*');
  res.end(headOnly ? undefined : answer.body);
}
