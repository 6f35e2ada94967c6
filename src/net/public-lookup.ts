// The guarded fetch's address rule as a `lookup` function, for clients that keep their own
// connection pools (the proxy's streaming client): a name resolves only when every address it has
// is public, and the socket connects to the address that was checked.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { ForbiddenAddressError } from './errors.ts';
import { classifyIp } from './ip-address.ts';

export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
    if (err) return callback(err, '', 4);
    for (const { address } of addresses) {
      const cls = classifyIp(address);
      if (cls === undefined) return callback(Object.assign(new Error(`${hostname} resolved to something that is not an IP address`), { code: 'ENOTFOUND' }), '', 4);
      if (cls !== 'public') return callback(new ForbiddenAddressError(hostname, address, cls) as NodeJS.ErrnoException, '', 4);
    }
    if (addresses.length === 0) return callback(Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }), '', 4);
    if (options.all) return (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};
