// An http and an https connection pool with the same options, for outbound requests.
//
// `node:https` loads `node:tls` and OpenSSL's TLS state, about 8 MB of resident memory that a
// server which has made no HTTPS request yet does not need (measured on Node 24: a bare process
// grows from 41 to 50 MB by requiring it). So the https half is created, and the module loaded,
// on the first HTTPS request; a server that only ever talks plain HTTP (tests, a local PLC) never
// loads it at all.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { http } from './node-http.ts';

const require = createRequire(import.meta.url);

/** `node:https`, loaded on first use (require() keeps it once loaded). */
export function https(): typeof Https {
  return require('node:https') as typeof Https;
}

export class AgentPool {
  readonly http: Http.Agent;
  #https: Https.Agent | undefined;
  #closed = false;

  constructor(private readonly options: Http.AgentOptions) {
    this.http = new http.Agent(options);
  }

  get https(): Https.Agent {
    if (this.#https === undefined) {
      this.#https = new (https().Agent)(this.options);
      if (this.#closed) this.#https.destroy();
    }
    return this.#https;
  }

  /** The pool for `url`'s protocol (`https:` or anything else: http). */
  for(secure: boolean): Http.Agent {
    return secure ? this.https : this.http;
  }

  destroy(): void {
    this.#closed = true;
    this.http.destroy();
    this.#https?.destroy();
  }
}

/** `http.request` or `https.request`, the latter loading `node:https` on first use. */
export function requestFn(secure: boolean): typeof Http.request {
  return secure ? https().request : http.request;
}
