// The parts of prom-client Squall uses, each loaded from its own file. The package's index also
// loads its Pushgateway (which loads node:https and node:tls, OpenSSL's TLS state) and its cluster
// aggregator, neither of which Squall uses: about 8 MB of resident memory in an idle server.
// prom-client has no "exports" map, so these paths are part of its published files.
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics;
