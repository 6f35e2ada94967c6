import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidRequestError, PayloadTooLargeError } from './errors.ts';

/**
 * The HTTP server sets no total request timeout (a repo import may rightly upload for an hour),
 * so the controller bounds bodies itself: a buffered (JSON) body must arrive whole within this...
 */
export const BODY_DEADLINE_MS = 300_000;
/** ...and a streamed body (a blob, a repo CAR) must not go this long without a byte. */
export const STREAM_IDLE_TIMEOUT_MS = 60_000;

/**
 * An answer sent before the body was read to its end (a 413, an auth failure) only reaches a
 * client that is still sending if the server goes on reading: closing a socket with unread
 * bytes makes the kernel reset the connection, and the client sees EPIPE or ECONNRESET instead
 * of the answer. So the rest of the body is read and thrown away, up to this many bytes...
 */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/** ...and for at most this long; past either bound the connection is closed... */
export const DISCARD_DEADLINE_MS = 30_000;
/** ...gracefully: our side is shut after the answer, and what still arrives is dropped for this long. */
export const LINGER_MS = 2_000;

/** The media type of a request, lower case, without parameters (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const semi = header.indexOf(';');
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  return type === '' ? undefined : type;
}

/** True when the request carries a body (a non-zero Content-Length or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Refuses at once a body whose declared length is over the limit, before anything is read. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const length = req.headers['content-length'];
  if (length === undefined) return;
  const declared = Number(length);
  if (!Number.isSafeInteger(declared) || declared < 0) throw new InvalidRequestError('Invalid Content-Length');
  if (declared > limit) throw new PayloadTooLargeError(`Request body is larger than ${limit} bytes`);
}

/**
 * Reads the whole body, failing with 413 as soon as more than `limit` bytes have arrived:
 * the limit is enforced while streaming, so an oversized body is never buffered.
 */
export function readBody(req: IncomingMessage, limit: number, deadlineMs = BODY_DEADLINE_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = setTimeout(() => {
      finish(new InvalidRequestError('Request body took too long to arrive'));
      req.destroy();
    }, deadlineMs);
    const finish = (err: Error | null, value?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(new PayloadTooLargeError(`Request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    const onError = (err: Error) => finish(new InvalidRequestError(`Could not read request body: ${err.message}`));
    const onAborted = () => finish(new InvalidRequestError('Request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) throw new InvalidRequestError('Request body is empty; expected JSON');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidRequestError('Request body is not valid JSON');
  }
}

/**
 * A pass-through stream that errors with 413 once more than `limit` bytes have flowed through it,
 * and with 400 when the request stalls for `idleMs` (the connection is then dropped).
 */
export class LimitedStream extends Transform {
  #seen = 0;
  /** Called for each chunk that flows through (the body is alive). */
  onChunk: (() => void) | undefined;

  constructor(readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onChunk?.();
    this.#seen += chunk.length;
    if (this.#seen > this.limit) {
      callback(new PayloadTooLargeError(`Request body is larger than ${this.limit} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

export function limitedBodyStream(req: IncomingMessage, limit: number, idleMs = STREAM_IDLE_TIMEOUT_MS): LimitedStream {
  const limited = new LimitedStream(limit);
  let timer: NodeJS.Timeout | undefined;
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    timer = setTimeout(() => {
      // paused by backpressure: the reader is busy, the client is not stalling
      if (req.readableFlowing === false && !limited.destroyed) return arm();
      limited.destroy(new InvalidRequestError(`Request body stalled: nothing arrived for ${Math.round(idleMs / 1000)} s`));
      req.destroy();
    }, idleMs);
  };
  arm();
  // Watched from inside the pipe, not with a 'data' listener on the request: that would keep
  // the request flowing (read and thrown away) after the reader gave up on it.
  limited.onChunk = arm;
  req.on('end', stop);
  req.on('close', stop);
  limited.on('close', stop);
  limited.on('error', stop);
  limited.on('unpipe', stop); // the request was given up on (discardRest), or has ended
  req.on('error', (err) => limited.destroy(err));
  req.on('aborted', () => limited.destroy(new InvalidRequestError('Request aborted')));
  req.pipe(limited);
  return limited;
}

/** True when the client said this is its last request on the connection (HTTP/1.0, or `Connection: close`). */
export function clientClosesAfter(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  return req.httpVersion === '1.0' ? !connection.includes('keep-alive') : connection.includes('close');
}

/**
 * Reads the rest of a body nobody wants and drops it (see DISCARD_LIMIT_BYTES). Resolves with
 * 'drained' when it ended within the bounds, or 'over' when it did not: the caller then closes the
 * connection (lingerClose) once its answer is out.
 */
export function discardRest(req: IncomingMessage, bounds = { bytes: DISCARD_LIMIT_BYTES, ms: DISCARD_DEADLINE_MS }): Promise<'drained' | 'over'> {
  if (req.complete || req.destroyed) return Promise.resolve('drained');
  return new Promise((resolve) => {
    let discarded = 0;
    const finish = (outcome: 'drained' | 'over') => {
      clearTimeout(deadline);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > bounds.bytes) finish('over');
    };
    const onEnd = () => finish('drained');
    const onClose = () => finish(req.complete ? 'drained' : 'over');
    const deadline = setTimeout(() => finish('over'), bounds.ms);
    deadline.unref();
    req.unpipe(); // whoever was reading it gave up
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}

/**
 * Closes a connection whose client may still be sending: our side is shut after what was already
 * written (the answer), and what still arrives is dropped for a moment before the socket goes, so
 * the client's kernel is not sent a reset that could discard the answer before it was read.
 */
export function lingerClose(req: IncomingMessage, lingerMs = LINGER_MS): void {
  const socket = req.socket;
  if (socket.destroyed) return;
  req.resume();
  socket.end();
  setTimeout(() => socket.destroy(), lingerMs).unref();
}
