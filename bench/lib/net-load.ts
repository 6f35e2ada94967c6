// A leaner load generator than node:http for the same job: one prebuilt GET written to each
// keep-alive socket, answers framed by Content-Length or chunked encoding and otherwise not parsed.
// node:http's client spends about as much CPU per request as a fast server does (35 µs against
// Squall's 31 µs here), so on 2 cores it caps requests/s before the server does; this one spends
// about 40% less, which leaves the server as the limit.
import { connect, type Socket } from 'node:net';
import { createLoadTally, type LoadResult, type LoadRunner, type LoadTally } from './load-tally.ts';

export class ResponseFramingError extends Error {}

export interface FramedResponse {
  status: number;
  /** Where the body starts and where the whole response ends, in bytes from the start of `buf`. */
  bodyStart: number;
  end: number;
  /** The server said `Connection: close`. */
  closes: boolean;
}

/**
 * Finds the end of the first HTTP/1.x response in `buf`; undefined when more bytes are needed.
 * Throws on a response it cannot delimit on a kept-alive connection (no length, not chunked).
 */
export function frameResponse(buf: Buffer): FramedResponse | undefined {
  const headerEnd = buf.indexOf('\r\n\r\n');
  if (headerEnd === -1) return undefined;
  const head = buf.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  if (!/^HTTP\/1\.[01] \d{3}/.test(head)) throw new ResponseFramingError(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`);
  const closes = /\r\nconnection:[ \t]*close/i.test(head);
  const bodyStart = headerEnd + 4;
  const contentLength = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  if (contentLength) {
    const end = bodyStart + Number(contentLength[1]);
    return buf.length >= end ? { status, bodyStart, end, closes } : undefined;
  }
  if (/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) {
    let pos = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd === -1) return undefined;
      const size = parseInt(buf.toString('latin1', pos, lineEnd), 16);
      if (!Number.isInteger(size) || size < 0) throw new ResponseFramingError('bad chunk size line');
      if (size === 0) {
        // The last chunk: optional trailer lines, then an empty line.
        const end = buf.indexOf('\r\n\r\n', lineEnd);
        return end === -1 ? undefined : { status, bodyStart, end: end + 4, closes };
      }
      pos = lineEnd + 2 + size + 2;
      if (pos > buf.length) return undefined;
    }
  }
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, bodyStart, end: bodyStart, closes };
  throw new ResponseFramingError(`status ${status} without Content-Length or chunked encoding`);
}

interface Window {
  tally: LoadTally;
  deadline: number;
  done: () => void;
}

/** One keep-alive connection, kept open from one window to the next. */
class Connection {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private sentAt = 0;
  private window: Window | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly request: Buffer,
  ) {}

  start(window: Window): void {
    this.window = window;
    if (this.socket) this.send();
    else this.open();
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): void {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => this.send());
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    let failed = false;
    socket.on('error', (err) => {
      failed = true;
      this.window?.tally.failed(err);
    });
    socket.on('close', () => {
      this.socket = undefined;
      this.buf = Buffer.alloc(0);
      // The server closed the connection, or we dropped it on a bad answer: reconnect while the window
      // lasts, at once after a clean close, a little later after an error so a refusing server is not spun on.
      if (this.window && performance.now() < this.window.deadline) {
        if (failed) setTimeout(() => this.open(), 10);
        else this.open();
      } else {
        this.finish();
      }
    });
  }

  private send(): void {
    if (!this.window || performance.now() >= this.window.deadline) return this.finish();
    this.sentAt = performance.now();
    this.socket!.write(this.request);
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let framed: FramedResponse | undefined;
    try {
      framed = frameResponse(this.buf);
    } catch (err) {
      this.socket?.destroy(err as Error);
      return;
    }
    if (!framed) return;
    this.window?.tally.answered(framed.status, framed.end - framed.bodyStart, performance.now() - this.sentAt);
    this.buf = this.buf.subarray(framed.end);
    if (framed.closes) this.socket?.end();
    else this.send();
  }

  private finish(): void {
    const window = this.window;
    this.window = undefined;
    window?.done();
  }
}

export function createNetLoadRunner(url: string, connections: number, headers: Record<string, string> = {}): LoadRunner {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error(`only http:// targets are supported, got ${target.protocol}`);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const request = Buffer.from(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nAccept: application/json\r\n${extra}\r\n`, 'latin1');
  const pool = Array.from({ length: connections }, () => new Connection(target.hostname, Number(target.port || 80), request));

  async function run(durationMs: number): Promise<LoadResult> {
    const tally = createLoadTally();
    const deadline = performance.now() + durationMs;
    await Promise.all(pool.map((c) => new Promise<void>((done) => c.start({ tally, deadline, done }))));
    return tally.finish();
  }

  return { run, close: () => pool.forEach((c) => c.close()) };
}
