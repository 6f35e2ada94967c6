import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { classifyIp, clientKeyOf, isPublicIp, parseIpv6, type AddressClass } from './ip-address.ts';

const cases: Array<[string, AddressClass]> = [
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.254', 'cgnat'],
  ['127.0.0.1', 'loopback'],
  ['127.255.0.9', 'loopback'],
  ['169.254.169.254', 'link-local'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.33', 'documentation'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'reserved'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['64:ff9b::192.168.0.1', 'private'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b:1::1', 'private'],
  ['2002:7f00:1::1', 'loopback'],
  ['2002:a00:1::', 'private'],
  ['::127.0.0.1', 'reserved'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
  ['2001:db8::1', 'documentation'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'private'],
  ['ff02::1', 'multicast'],
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['172.32.0.1', 'public'],
  ['100.128.0.1', 'public'],
  ['192.169.0.1', 'public'],
  ['2606:4700:4700::1111', 'public'],
  ['2a00:1450:4001:82a::200e', 'public'],
  ['::ffff:8.8.8.8', 'public'],
  ['64:ff9b::808:808', 'public'],
  ['2002:808:808::1', 'public'],
];

describe('classifyIp', () => {
  for (const [ip, expected] of cases) {
    test(`classifies ${ip} as ${expected}`, () => {
      assert.equal(classifyIp(ip), expected);
      assert.equal(isPublicIp(ip), expected === 'public');
    });
  }

  test('returns undefined for things that are not IP addresses', () => {
    for (const s of ['', 'localhost', 'example.com', '127.1', '0x7f.0.0.1', '017.0.0.1', '1.2.3.4.5', ':::', '1::2::3', '[::1]']) {
      assert.equal(classifyIp(s), undefined, s);
      assert.equal(isPublicIp(s), false, s);
    }
  });

  test('parseIpv6 expands compressed and dotted forms to the same bytes', () => {
    assert.deepEqual(parseIpv6('::ffff:127.0.0.1'), parseIpv6('0:0:0:0:0:ffff:7f00:0001'));
    assert.deepEqual(parseIpv6('1::'), Uint8Array.from([0, 1, ...new Array(14).fill(0)]));
  });
});

describe('clientKeyOf', () => {
  it('keeps an IPv4 address, and counts IPv4-mapped and NAT64 addresses as theirs', () => {
    assert.equal(clientKeyOf('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKeyOf('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientKeyOf('64:ff9b::cb00:7107'), '203.0.113.7');
  });

  it('groups an IPv6 address by its /64, however it is written', () => {
    const key = clientKeyOf('2001:db8:1:2::1');
    assert.equal(key, '2001:db8:1:2::/64');
    for (const other of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0000:0000:0000:0abc', '2001:db8:1:2::1%eth0']) assert.equal(clientKeyOf(other), key, other);
    assert.notEqual(clientKeyOf('2001:db8:1:3::1'), key);
  });
});
