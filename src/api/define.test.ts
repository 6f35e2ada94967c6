import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineMethod, toMethodDef } from './define.ts';
import { methods } from './index.ts';

describe('method definitions and OAuth', () => {
  it('refuses a method that takes sessions but does not say what an OAuth grant needs', () => {
    const method = defineMethod({ nsid: 'com.example.thing', auth: 'access', handler: () => ({}) });
    assert.throws(() => toMethodDef(method), /does not say what an OAuth grant needs/);
  });

  it('every method that takes sessions states its OAuth rule', () => {
    for (const method of methods) assert.doesNotThrow(() => toMethodDef(method), method.nsid);
  });
});
