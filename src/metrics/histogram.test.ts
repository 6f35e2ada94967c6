import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabelledHistogram } from './histogram.ts';
import { RequestMetrics, UNKNOWN_NSID } from './request-metrics.ts';

describe('LabelledHistogram', () => {
  it('counts each observation in the first bucket that holds it and exports cumulative buckets', () => {
    const h = new LabelledHistogram('t_seconds', 'test', ['kind'], [0.1, 1, 0.5]);
    const child = h.child('a');
    for (const v of [0.05, 0.1, 0.3, 0.7, 2]) child.observe(v);
    const values = h.get().values;
    const buckets = values.filter((v) => v.metricName === 't_seconds_bucket').map((v) => [v.labels.le, v.value]);
    assert.deepEqual(buckets, [[0.1, 2], [0.5, 3], [1, 4], ['+Inf', 5]]);
    assert.equal(values.find((v) => v.metricName === 't_seconds_count')?.value, 5);
    assert.ok(Math.abs(values.find((v) => v.metricName === 't_seconds_sum')!.value - 3.15) < 1e-9);
  });

  it('hands out the same child for the same label values', () => {
    const h = new LabelledHistogram('t', 'test', ['a', 'b'], [1]);
    assert.equal(h.child('x', 'y'), h.child('x', 'y'));
    assert.notEqual(h.child('x', 'y'), h.child('x', 'z'));
    assert.throws(() => h.child('x'));
  });
});

describe('RequestMetrics', () => {
  it('keeps one series per method, status and auth kind, and one for every unknown method; an unknown auth kind counts as none', () => {
    const metrics = new RequestMetrics();
    const method = { nsid: 'com.atproto.repo.getRecord' };
    metrics.observe(method, 200, 'access', 0.001);
    metrics.observe(method, 200, 'access', 0.002);
    metrics.observe(method, 400, 'none', 0.001);
    metrics.observe(method, 400, 'none', 0.003);
    for (let i = 0; i < 50; i++) metrics.observe(undefined, 404, 'none', 0.001);
    metrics.observe(method, 200, 'not-a-kind', 0.001);
    assert.equal(metrics.histogram.childCount, 4);
    const counts = metrics.histogram.get().values.filter((v) => v.metricName?.endsWith('_count'));
    assert.deepEqual(
      counts.map((v) => [v.labels.nsid, v.labels.status, v.labels.auth, v.value]),
      [
        ['com.atproto.repo.getRecord', '200', 'access', 2],
        ['com.atproto.repo.getRecord', '400', 'none', 2],
        [UNKNOWN_NSID, '404', 'none', 50],
        ['com.atproto.repo.getRecord', '200', 'none', 1],
      ],
    );
  });
});
