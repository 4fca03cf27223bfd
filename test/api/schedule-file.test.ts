// Schedule files (XMLTV and JSON) as a broadcaster writes them, and as an attacker or a slip of
// the keyboard does: each refusal names its line and reason; nothing hostile is expanded.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SCHEDULE_FILE_BYTES, parseSchedule, ScheduleError } from '../../src/api/schedule-file.js';
import { MAX_PROGRAMMES } from '../../src/protocol/guide.js';

function refused(text: string, line: number | undefined, reason: RegExp): void {
  assert.throws(
    () => parseSchedule(text),
    (err: unknown) => {
      assert.ok(err instanceof ScheduleError, `not a ScheduleError: ${String(err)}`);
      assert.equal(err.line, line, `line of "${err.message}"`);
      assert.match(err.reason, reason);
      return true;
    },
  );
}

const xmltv = (programmes: string, prolog = '<?xml version="1.0"?>\n') => `${prolog}<tv>\n${programmes}</tv>\n`;
/** Three lines. */
const programme = (start: string, stop: string, title: string, extra = '') =>
  `  <programme start="${start}" stop="${stop}" channel="c">\n    <title>${title}</title>${extra}\n  </programme>\n`;

describe('XMLTV schedules', () => {
  test('read with offsets, entities, CDATA and whitespace folded to one line', () => {
    const list = parseSchedule(
      xmltv(
        programme(
          '20261207210000 +0100',
          '20261207220000 +0100',
          'News &amp; &#x2603; <![CDATA[<live>]]>',
          '<desc>One\n  two</desc><category>News</category>',
        ) + programme('20261207190000', '202612072000', 'Earlier'),
        '<?xml version="1.0"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<!-- a comment -->\n',
      ),
    );
    assert.deepEqual(list, [
      { startMs: Date.UTC(2026, 11, 7, 19), stopMs: Date.UTC(2026, 11, 7, 20), title: 'Earlier' },
      {
        startMs: Date.UTC(2026, 11, 7, 20),
        stopMs: Date.UTC(2026, 11, 7, 21),
        title: 'News & ☃ <live>',
        description: 'One two',
        category: 'News',
      },
    ]);
  });

  test('not well-formed XML is refused at its line', () => {
    refused(xmltv(`${programme('20261207190000', '20261207200000', 'A')}  <programme start="x"\n`), 7, /not well-formed XML/);
    refused('<tv>\n<programme>\n</tv>', 3, /does not close <programme>/);
    refused(xmltv('', '<?xml version="1.0"?>\n').replace('</tv>', '</tv><tv/>'), 3, /after the root element/);
    refused('hello', 1, /neither XMLTV/);
  });

  test('entity bombs and external entities are refused, never expanded', () => {
    const bomb =
      '<?xml version="1.0"?>\n<!DOCTYPE tv [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<tv><programme><title>&lol2;</title></programme></tv>';
    refused(bomb, 2, /internal subset is not allowed/);
    refused(xmltv(programme('20261207190000', '20261207200000', '&xxe;')), 4, /entity &xxe; is not allowed/);
    refused(xmltv(programme('20261207190000', '20261207200000', 'A & B')), 4, /"&" must be written &amp;/);
  });

  test('control characters, raw or as references, are refused', () => {
    refused(xmltv(programme('20261207190000', '20261207200000', 'bell\u0007')), 4, /control character U\+0007/);
    refused(xmltv(programme('20261207190000', '20261207200000', 'bell&#7;')), 4, /not a character XML allows/);
    // Allowed by XML but not in a title: a bidi override that reorders what is shown.
    refused(
      xmltv(programme('20261207190000', '20261207200000', 'evil&#x202E;txt')),
      3,
      /title must not hold control or invisible characters \(U\+202E/,
    );
  });

  test('overlaps, stops before starts, bad times, missing parts', () => {
    const first = programme('20261207190000', '20261207200000', 'First');
    refused(xmltv(first + programme('20261207193000', '20261207210000', 'Second')), 6, /overlaps the programme before \("First"\)/);
    refused(xmltv(programme('20261207200000', '20261207190000', 'Backwards')), 3, /stops before it starts/);
    refused(xmltv(programme('20261231250000', '20261207190000', 'Hour 25')), 3, /not an XMLTV time/);
    refused(xmltv(programme('20260230190000', '20260230200000', 'February 30')), 3, /not an XMLTV time/);
    refused(xmltv('  <programme start="20261207190000">\n<title>x</title></programme>\n'), 3, /needs start and stop/);
    refused(xmltv('  <programme start="20261207190000" stop="20261207200000"/>\n'), 3, /needs a <title>/);
    refused('<schedule/>', 1, /root element must be <tv>/);
  });

  test('too long titles, too many programmes, too large files', () => {
    refused(xmltv(programme('20261207190000', '20261207200000', 'x'.repeat(121))), 3, /title is 121 characters long \(at most 120\)/);
    let many = '';
    for (let i = 0; i <= MAX_PROGRAMMES; i++) {
      const t = (m: number) =>
        `2026120${1 + Math.floor(m / 1440)}${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}00`;
      many += programme(t(i * 10), t(i * 10 + 5), `P${i}`);
    }
    refused(xmltv(many), 3 + 3 * MAX_PROGRAMMES, new RegExp(`too many programmes \\(more than ${MAX_PROGRAMMES}\\)`));
    refused(' '.repeat(MAX_SCHEDULE_FILE_BYTES + 1), undefined, /larger than/);
  });
});

describe('JSON schedules', () => {
  const entry = (start: string, stop: string, title: string) =>
    `  {"start": "${start}", "stop": "${stop}", "title": ${JSON.stringify(title)}}`;

  test('read with ISO 8601 times and offsets, sorted', () => {
    const list = parseSchedule(
      `[\n${entry('2026-12-07T21:00:00+01:00', '2026-12-07T22:00+0100', 'Second')},\n${entry('2026-12-07T19:00:00Z', '2026-12-07T19:30:00.500Z', 'First')}\n]`,
    );
    assert.deepEqual(
      list.map((p) => [p.title, p.startMs, p.stopMs]),
      [
        ['First', Date.UTC(2026, 11, 7, 19), Date.UTC(2026, 11, 7, 19, 30)],
        ['Second', Date.UTC(2026, 11, 7, 20), Date.UTC(2026, 11, 7, 21)],
      ],
    );
  });

  test('each refusal names the line of its entry', () => {
    const ok = entry('2026-12-07T19:00:00Z', '2026-12-07T20:00:00Z', 'First');
    refused(`[\n${ok},\n${entry('2026-12-07T19:30:00Z', '2026-12-07T21:00:00Z', 'Second')}\n]`, 3, /overlaps the programme before/);
    refused(`[\n${ok},\n${entry('2026-12-07T22:00:00Z', '2026-12-07T21:00:00Z', 'Back')}\n]`, 3, /stops before it starts/);
    refused(
      `[\n${ok},\n${entry('2026-12-07 22:00', '2026-12-07T23:00:00Z', 'No offset')}\n]`,
      3,
      /start must be an ISO 8601 time with its offset/,
    );
    refused(
      `[\n${ok},\n${entry('2026-12-07T22:00:00Z', '2026-12-07T23:00:00Z', 'bell\u0007')}\n]`,
      3,
      /title must not hold control or invisible characters \(U\+0007/,
    );
    refused(
      `[\n${ok},\n  {"start": "2026-12-07T22:00:00Z", "stop": "2026-12-07T23:00:00Z", "titel": "typo"}\n]`,
      3,
      /unknown field "titel"/,
    );
    refused(`[\n${ok},\n  "just a string"\n]`, 3, /must be an object/);
    refused(`[\n${ok},\n  {"start": 1\n]`, 4, /not valid JSON/);
    refused('{"programmes": []}', 1, /neither XMLTV/);
  });

  test('too many entries is refused at the first one too many', () => {
    const list = Array.from({ length: MAX_PROGRAMMES + 20 }, (_, i) =>
      JSON.stringify({
        start: new Date(Date.UTC(2026, 11, 7) + i * 60_000).toISOString(),
        stop: new Date(Date.UTC(2026, 11, 7) + i * 60_000 + 30_000).toISOString(),
        title: `P${i}`,
      }),
    );
    refused(`[\n${list.join(',\n')}\n]`, MAX_PROGRAMMES + 2, /too many programmes/);
  });
});
