// node:http, loaded with require() rather than imported as an ES module.
//
// Importing a builtin as an ES module makes Node build a facade holding every export, which reads
// node:http's lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters and so loads Node's bundled
// undici (its fetch): measured on Node 24.22, a bare process grows from 45 to 59 MB RSS on
// `import http from 'node:http'` and does not with require(). Squall makes its requests with
// node:http itself and does not need undici in an idle server. Types come from
// `import type ... from 'node:http'`, which loads nothing.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

export const http = createRequire(import.meta.url)('node:http') as typeof Http;
