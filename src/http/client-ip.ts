import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The client's IP: the socket peer, unless the peer is a configured trusted proxy, in which case
 * the right-most address of X-Forwarded-For that is not itself a trusted proxy.
 */
export function createClientIpResolver(trustedProxies: readonly string[]): (req: IncomingMessage) => string {
  const trusted = new Set(trustedProxies.map(normalize));
  return (req) => {
    const peer = normalize(req.socket.remoteAddress ?? '');
    if (trusted.size === 0 || !trusted.has(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const chain = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => normalize(s.trim()))
      .filter((s) => isIP(s) !== 0);
    for (let i = chain.length - 1; i >= 0; i--) if (!trusted.has(chain[i])) return chain[i];
    return chain[0] ?? peer;
  };
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
