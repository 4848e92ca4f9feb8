import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, formatDuration } from './progress.ts';

test('the bar shows the fraction, the counts, the rate and an ETA from the average rate', () => {
  let now = 0;
  const bar = new ProgressBar({ total: 1000, unit: 'records', out: { write: () => true }, now: () => now });
  now = 10_000;
  const line = bar.render(250);
  assert.match(line, /25\.0%/);
  assert.match(line, /250\/1,000 records/);
  assert.match(line, /25\/s/);
  assert.match(line, /ETA 30s/); // 750 left at 25/s
  assert.match(bar.render(1000), /100\.0%.*ETA 0s/);
});

test('without a terminal it prints a line at most every interval, and always the last one', () => {
  let now = 0;
  const lines: string[] = [];
  const bar = new ProgressBar({ total: 10, unit: 'x', out: { write: (s: string) => lines.push(s) }, now: () => now, lineEveryMs: 1000 });
  bar.update(1);
  now = 500;
  bar.update(2);
  now = 1500;
  bar.update(3);
  bar.finish(10);
  assert.equal(lines.length, 3);
  assert.match(lines[2], /100\.0%/);
  assert.ok(lines.every((l) => !l.includes('\r')));
});

test('durations read as a person would say them', () => {
  assert.equal(formatDuration(59), '59s');
  assert.equal(formatDuration(61), '1m01s');
  assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
  assert.equal(formatDuration(Infinity), '--');
});
