import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectMimeType, mediaTypeEssence, servingContentType } from './content-type.ts';

// Smallest real files of a few formats: enough header for the magic-number detector.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
const GIF = Buffer.from('47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb004300', 'hex');
const MP4 = Buffer.concat([Buffer.from('0000001c6674797069736f6d0000020069736f6d69736f32617663316d703431', 'hex'), Buffer.alloc(64)]);
const HTML = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>');
const XML_SVG = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

describe('detectMimeType', () => {
  it('trusts the magic numbers over the declared type', async () => {
    assert.equal(await detectMimeType(PNG, 'image/jpeg'), 'image/png');
    assert.equal(await detectMimeType(GIF, undefined), 'image/gif');
    assert.equal(await detectMimeType(JPEG, 'application/octet-stream'), 'image/jpeg');
    assert.equal(await detectMimeType(MP4, 'video/quicktime'), 'video/mp4');
  });

  it('refuses a declared image type that the bytes do not carry', async () => {
    assert.equal(await detectMimeType(HTML, 'image/png'), 'application/octet-stream');
    assert.equal(await detectMimeType(SVG, 'image/png'), 'application/octet-stream');
    assert.equal(await detectMimeType(Buffer.from('hello'), 'video/mp4'), 'application/octet-stream');
  });

  it('keeps a declared type the detector cannot recognise, reduced to its essence', async () => {
    assert.equal(await detectMimeType(Buffer.from('hello'), 'Text/Plain; charset=utf-8'), 'text/plain');
    assert.equal(await detectMimeType(Buffer.from('{"a":1}'), 'application/json'), 'application/json');
    assert.equal(await detectMimeType(SVG, 'image/svg+xml'), 'image/svg+xml');
  });

  it('detects an XML prolog, whatever was declared', async () => {
    assert.equal(await detectMimeType(XML_SVG, 'image/png'), 'application/xml');
  });

  it('falls back to application/octet-stream without a usable declared type', async () => {
    for (const declared of [undefined, '', '*/*', 'nonsense', 'image/', '/png', 'a/b c']) {
      assert.equal(await detectMimeType(Buffer.from('hello'), declared), 'application/octet-stream', String(declared));
    }
    assert.equal(await detectMimeType(new Uint8Array(0), 'text/plain'), 'text/plain');
  });
});

describe('servingContentType', () => {
  it('serves raster images, audio, video and plain text as themselves', () => {
    for (const type of ['image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'audio/mpeg', 'text/plain', 'application/json']) {
      assert.equal(servingContentType(type), type);
    }
  });

  it('serves anything that could run script as a download', () => {
    const risky = [
      'text/html',
      'application/xhtml+xml',
      'image/svg+xml',
      'application/xml',
      'text/xml',
      'application/javascript',
      'text/javascript',
      'application/pdf',
      'text/css',
      'multipart/x-mixed-replace',
      'message/rfc822',
      'application/x-shockwave-flash',
      'video/x-something+xml',
      'TEXT/HTML',
      'not a type',
    ];
    for (const type of risky) assert.equal(servingContentType(type), 'application/octet-stream', type);
  });
});

describe('mediaTypeEssence', () => {
  it('lower-cases, drops parameters and refuses non-types', () => {
    assert.equal(mediaTypeEssence('IMAGE/PNG ; x=y'), 'image/png');
    assert.equal(mediaTypeEssence('image'), undefined);
    assert.equal(mediaTypeEssence(undefined), undefined);
    assert.equal(mediaTypeEssence(`a/${'b'.repeat(200)}`), undefined);
  });
});
