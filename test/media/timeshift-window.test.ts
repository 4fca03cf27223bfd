// The timeshift window with plain data: the playlist spans the window and slides, a few
// segments stay after leaving it, the byte bound holds when the stream runs above the rate the
// bound was made for, and gaps and restarts are marked as discontinuities.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RecordedSegment, type TimeshiftEntry, TimeshiftWindow } from '../../src/media/timeshift-window.js';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

function seg(i: number, bytes = 1000, discontinuity = false): RecordedSegment {
  return { discontinuity, durationMs: 2000, programDateTimeMs: T0 + i * 2000, bytes };
}

/** Adds a segment the way the store does: room first, then the segment; returns what was deleted. */
function record(w: TimeshiftWindow, s: RecordedSegment): TimeshiftEntry[] {
  const room = w.makeRoom(s.bytes);
  assert.ok(room !== undefined);
  return [...room, ...w.add(s).dropped];
}

function tags(playlist: string, name: string): string[] {
  return playlist
    .split('\n')
    .filter((l) => l.startsWith(`#${name}`))
    .map((l) => l.slice(name.length + 2));
}

test('the playlist spans the window, slides with the media sequence, and keeps three segments after they leave it', () => {
  const w = new TimeshiftWindow({ windowMs: 20_000, maxBytes: 1e9 });
  assert.equal(w.playlist(), undefined);
  const deleted: number[] = [];
  for (let i = 0; i < 30; i++) deleted.push(...record(w, seg(i)).map((e) => e.sequence));
  const p = w.playlist() as string;
  // 10 segments of 2 s: exactly the window; 13 held.
  assert.equal(w.listedMs, 20_000);
  assert.deepEqual(tags(p, 'EXT-X-MEDIA-SEQUENCE'), ['20']);
  assert.equal(tags(p, 'EXTINF').length, 10);
  assert.match(p, /^timeshift\/29\.ts$/m);
  assert.equal(w.held().length, 13);
  assert.deepEqual(deleted, [...Array(17).keys()]);
  assert.equal(w.get(17)?.sequence, 17, 'a retained segment is still served');
  assert.equal(w.get(16), undefined);
  // Wall-clock capture time of each listed segment, in order.
  assert.deepEqual(
    tags(p, 'EXT-X-PROGRAM-DATE-TIME'),
    Array.from({ length: 10 }, (_, k) => new Date(T0 + (20 + k) * 2000).toISOString()),
  );
  assert.deepEqual(tags(p, 'EXT-X-START'), ['TIME-OFFSET=-6']);
  assert.doesNotMatch(p, /ENDLIST|DISCONTINUITY/);
  w.end();
  assert.match(w.playlist() as string, /#EXT-X-ENDLIST\n$/);
  assert.doesNotMatch(w.playlist() as string, /EXT-X-START/);
});

test('a segment that does not fill the window whole: the playlist spans at least the window, less than a segment more', () => {
  const w = new TimeshiftWindow({ windowMs: 5000, maxBytes: 1e9 });
  for (let i = 0; i < 10; i++) record(w, { ...seg(i), durationMs: 2000 });
  assert.equal(w.listedMs, 6000);
});

test('the byte bound holds when the stream runs at three times the rate it was made for: the window shrinks instead', () => {
  // Made for 1000 bytes a segment over 20 s (10 segments) with 1.5x headroom.
  const maxBytes = 15_000;
  const w = new TimeshiftWindow({ windowMs: 20_000, maxBytes });
  let dropped = 0;
  for (let i = 0; i < 40; i++) {
    dropped += record(w, seg(i, 3000)).length;
    assert.ok(w.heldBytes <= maxBytes, `${w.heldBytes} bytes held`);
  }
  assert.equal(w.heldBytes, 15_000);
  assert.equal(w.listedMs, 10_000, 'five segments of 3000 bytes fit');
  assert.equal(dropped, 35);
  // The playlist still names consecutive segments ending at the newest.
  const p = w.playlist() as string;
  assert.deepEqual(tags(p, 'EXT-X-MEDIA-SEQUENCE'), ['35']);
  assert.match(p, /timeshift\/39\.ts\n$/);
});

test('a segment larger than the bound is not kept, and the next one kept is marked as a discontinuity', () => {
  const w = new TimeshiftWindow({ windowMs: 20_000, maxBytes: 5000 });
  record(w, seg(0));
  assert.equal(w.makeRoom(6000), undefined);
  w.skip();
  record(w, seg(2));
  const p = w.playlist() as string;
  assert.match(p, /timeshift\/0\.ts\n#EXT-X-DISCONTINUITY\n.*\n.*\ntimeshift\/1\.ts/);
  assert.equal(w.nextSequence, 2, 'sequence numbers stay consecutive over the segments kept');
});

test('discontinuities: tagged where the stream restarted, counted in EXT-X-DISCONTINUITY-SEQUENCE as they leave', () => {
  const w = new TimeshiftWindow({ windowMs: 6000, maxBytes: 1e9, retainedSegments: 0 });
  record(w, seg(0));
  record(w, seg(1, 1000, true));
  record(w, seg(2));
  let p = w.playlist() as string;
  assert.deepEqual(tags(p, 'EXT-X-DISCONTINUITY-SEQUENCE'), ['0']);
  assert.equal(tags(p, 'EXT-X-DISCONTINUITY').length - 1, 1);
  record(w, seg(3));
  record(w, seg(4));
  // Segment 1 (the tagged one) has left: its tag is counted.
  p = w.playlist() as string;
  assert.deepEqual(tags(p, 'EXT-X-MEDIA-SEQUENCE'), ['2']);
  assert.deepEqual(tags(p, 'EXT-X-DISCONTINUITY-SEQUENCE'), ['1']);
  assert.doesNotMatch(p, /#EXT-X-DISCONTINUITY\n/);
});

test('the target duration is the longest segment so far, rounded up, and never decreases', () => {
  const w = new TimeshiftWindow({ windowMs: 4000, maxBytes: 1e9, retainedSegments: 0 });
  record(w, { ...seg(0), durationMs: 4200 });
  for (let i = 1; i < 6; i++) record(w, seg(i));
  assert.deepEqual(tags(w.playlist() as string, 'EXT-X-TARGETDURATION'), ['5']);
});
