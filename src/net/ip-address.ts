// Classifies IP addresses for the outbound-request guard. Everything a DID document, handle or
// PLC answer can point us at is attacker-chosen, so a request must never reach the host itself,
// the operator's private network or cloud metadata endpoints (169.254.169.254) unless the
// operator asked for it. Addresses are compared as bytes, which also catches the many textual
// spellings of one address (`::ffff:7f00:1`, `0:0:0:0:0:ffff:127.0.0.1`, `::1%lo`).
import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'broadcast'
  | 'unique-local'
  | 'documentation'
  | 'reserved';

interface Range {
  prefix: Uint8Array;
  bits: number;
  class: Exclude<AddressClass, 'public'>;
}

function v4(cidr: string, cls: Range['class']): Range {
  const [addr, bits] = cidr.split('/');
  return { prefix: Uint8Array.from(addr.split('.').map(Number)), bits: Number(bits), class: cls };
}

function v6(cidr: string, cls: Range['class']): Range {
  const [addr, bits] = cidr.split('/');
  return { prefix: parseIpv6(addr) as Uint8Array, bits: Number(bits), class: cls };
}

// IANA IPv4 special-purpose registry, minus the ranges that are globally reachable by design.
const V4_RANGES: Range[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'cgnat'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('255.255.255.255/32', 'broadcast'),
  v4('240.0.0.0/4', 'reserved'),
];

// IPv6 ranges that are never a public web server. Ranges that embed an IPv4 address (mapped,
// NAT64, 6to4) are handled before this table, by classifying the embedded address.
const V6_RANGES: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::/96', 'reserved'), // deprecated IPv4-compatible addresses
  v6('64:ff9b:1::/48', 'private'), // local-use NAT64
  v6('100::/64', 'reserved'), // discard-only
  v6('2001::/32', 'reserved'), // Teredo: the real target is obfuscated, so it cannot be checked
  v6('2001:2::/48', 'reserved'), // benchmarking
  v6('2001:db8::/32', 'documentation'),
  v6('3fff::/20', 'documentation'),
  v6('fc00::/7', 'unique-local'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'private'), // deprecated site-local
  v6('ff00::/8', 'multicast'),
];

function matches(bytes: Uint8Array, range: Range): boolean {
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== range.prefix[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full] & mask) === (range.prefix[full] & mask);
}

/** Parses dotted-quad IPv4 into 4 bytes, or undefined (no octal, hex or shortened forms). */
export function parseIpv4(ip: string): Uint8Array | undefined {
  if (!isIPv4(ip)) return undefined;
  return Uint8Array.from(ip.split('.').map(Number));
}

/** Parses an IPv6 address (with `::`, an embedded dotted quad or a `%zone`) into 16 bytes. */
export function parseIpv6(ip: string): Uint8Array | undefined {
  const zone = ip.indexOf('%');
  const text = zone === -1 ? ip : ip.slice(0, zone);
  if (!isIPv6(text)) return undefined;
  const out = new Uint8Array(16);
  let head = text;
  let tailV4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    // Keep the colon so "::1.2.3.4" still splits around "::".
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  if (groups.length !== 8) return undefined;
  for (let i = 0; i < 8; i++) {
    const value = parseInt(groups[i], 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  }
  if (tailV4 !== undefined) out.set(tailV4, 12);
  return out;
}

function classifyV4Bytes(bytes: Uint8Array): AddressClass {
  for (const range of V4_RANGES) if (matches(bytes, range)) return range.class;
  return 'public';
}

const MAPPED_PREFIX = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
const NAT64_PREFIX = new Uint8Array([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]);

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function classifyV6Bytes(bytes: Uint8Array): AddressClass {
  // IPv4-mapped (::ffff:a.b.c.d) and well-known NAT64 (64:ff9b::a.b.c.d) reach the embedded IPv4
  // address, and 6to4 (2002:aabb:ccdd::/48) routes to it, so those are judged by that address.
  if (startsWith(bytes, MAPPED_PREFIX) || startsWith(bytes, NAT64_PREFIX)) return classifyV4Bytes(bytes.subarray(12, 16));
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyV4Bytes(bytes.subarray(2, 6));
  for (const range of V6_RANGES) if (matches(bytes, range)) return range.class;
  return 'public';
}

/** The class of an IP address string, or undefined when it is not an IP address. */
export function classifyIp(ip: string): AddressClass | undefined {
  const four = parseIpv4(ip);
  if (four !== undefined) return classifyV4Bytes(four);
  const six = parseIpv6(ip);
  if (six !== undefined) return classifyV6Bytes(six);
  return undefined;
}

/**
 * Who a client is for per-client limits: an IPv4 address as it is, an IPv6 address by its /64
 * network (one subscriber gets a whole /64 and can pick any address in it, so counting addresses
 * would give each client 2^64 allowances). IPv4-mapped and NAT64 addresses count as their IPv4
 * address. Anything else is used as given.
 */
export function clientKeyOf(ip: string): string {
  const six = parseIpv4(ip) === undefined ? parseIpv6(ip) : undefined;
  if (six === undefined) return ip;
  if (startsWith(six, MAPPED_PREFIX) || startsWith(six, NAT64_PREFIX)) return six.subarray(12, 16).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((six[i] << 8) | six[i + 1]).toString(16));
  return `${groups.join(':')}::/64`;
}

/** Whether an IP address is a globally routable unicast address. Non-addresses are not public. */
export function isPublicIp(ip: string): boolean {
  return classifyIp(ip) === 'public';
}
