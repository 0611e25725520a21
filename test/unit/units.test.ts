import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsctrError } from '../../src/errors.js';
import { bytesSize, formatFloat, humanDuration, humanSize, parseBytes, parseDuration, parseSince } from '../../src/util/units.js';

test('humanSize: decimal units, Go %.3g', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [1001, '1kB'],
    [1500, '1.5kB'],
    [10_250, '10.2kB'], // an exact tie: Go rounds half to even
    [10_350, '10.3kB'], // 10.35 is really 10.3499999…
    [1125, '1.12kB'],
    [77_830_000, '77.8MB'],
    [187_400_000, '187MB'],
    [4_256_000, '4.26MB'],
    [5_000_000, '5MB'],
    [999_499, '999kB'],
    [999_500, '1e+03kB'], // docker really prints this
    [1_000_000, '1MB'],
    [123_456_789_012, '123GB'],
    [2.5e15, '2.5PB'],
    [1e30, '1e+06YB'],
    [-5, '-5B'],
  ];
  for (const [n, want] of cases) assert.equal(humanSize(n), want, String(n));
});

test('bytesSize: binary units, Go %.4g', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1536 * 1024 * 1024), '1.5GiB');
  assert.equal(bytesSize(123_456_789), '117.7MiB');
});

test('formatFloat follows strconv.FormatFloat', () => {
  const cases: [number, 'e' | 'E' | 'f' | 'g' | 'G', number, string][] = [
    [77.83, 'g', 3, '77.8'],
    [0.0001234, 'g', 3, '0.000123'],
    [0.00001234, 'g', 3, '1.23e-05'],
    [99.5, 'g', 2, '1e+02'],
    [100, 'g', 3, '100'],
    [4.2, 'g', 3, '4.2'],
    [1e6, 'g', -1, '1e+06'],
    [123456, 'g', -1, '123456'],
    [1234567, 'g', -1, '1.234567e+06'],
    [0.1, 'g', -1, '0.1'],
    [1e21, 'g', -1, '1e+21'],
    [5e-324, 'g', -1, '5e-324'],
    [1234.5678, 'e', 6, '1.234568e+03'],
    [1234.5678, 'E', 2, '1.23E+03'],
    [1e-7, 'e', -1, '1e-07'],
    [0, 'e', 3, '0.000e+00'],
    [0, 'g', 3, '0'],
    [3.14159, 'f', 6, '3.141590'],
    [2.675, 'f', 2, '2.67'],
    [0.25, 'f', 1, '0.2'],
    [0.35, 'f', 1, '0.3'],
    [0.5, 'f', 0, '0'],
    [1.5, 'f', 0, '2'],
    [2.5, 'f', 0, '2'],
    [0.001, 'f', 1, '0.0'],
    [999.96, 'f', 1, '1000.0'],
    [123.456, 'f', -1, '123.456'],
    [-1.5, 'g', -1, '-1.5'],
    [1e100, 'G', 3, '1E+100'],
    [NaN, 'g', 3, 'NaN'],
    [Infinity, 'f', 2, '+Inf'],
    [-Infinity, 'e', 2, '-Inf'],
  ];
  for (const [v, verb, prec, want] of cases) assert.equal(formatFloat(v, verb, prec), want, `${v} ${verb} ${prec}`);
});

test('humanDuration: go-units HumanDuration', () => {
  const S = 1000;
  const M = 60 * S;
  const H = 60 * M;
  const DAY = 24 * H;
  const cases: [number, string][] = [
    [-5 * S, 'Less than a second'],
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [S, '1 second'],
    [1999, '1 second'],
    [2 * S, '2 seconds'],
    [59 * S, '59 seconds'],
    [60 * S, 'About a minute'],
    [119 * S, 'About a minute'],
    [2 * M, '2 minutes'],
    [59 * M, '59 minutes'],
    [60 * M, 'About an hour'],
    [89 * M, 'About an hour'],
    [90 * M, '2 hours'], // rounded to the hour
    [47 * H, '47 hours'],
    [48 * H, '2 days'],
    [13 * DAY, '13 days'],
    [14 * DAY, '2 weeks'],
    [59 * DAY, '8 weeks'],
    [60 * DAY, '2 months'],
    [364 * DAY, '12 months'],
    [729 * DAY, '24 months'],
    [730 * DAY, '2 years'],
    [3650 * DAY, '10 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('parseBytes: docker RAMInBytes', () => {
  const K = 1024;
  const cases: [string, number][] = [
    ['1024', 1024],
    ['0', 0],
    ['512m', 512 * K * K],
    ['512M', 512 * K * K],
    ['1g', K ** 3],
    ['1G', K ** 3],
    ['100k', 100 * K],
    ['100kb', 100 * K],
    ['100KiB', 100 * K],
    ['100 kb', 100 * K],
    ['1.5g', 1.5 * K ** 3],
    ['1.5GiB', 1.5 * K ** 3],
    ['2t', 2 * K ** 4],
    ['1p', K ** 5],
    ['10b', 10],
    ['10B', 10],
    ['1.9', 1],
    ['.5k', 512],
    ['32 ', 32],
  ];
  for (const [s, want] of cases) assert.equal(parseBytes(s), want, s);
});

test('parseBytes refuses junk with go-units messages', () => {
  const cases: [string, string][] = [
    ['lots', "invalid size: 'lots'"],
    ['', "invalid size: ''"],
    ['m', "invalid size: 'm'"],
    ['-1', "invalid size: '-1'"],
    ['-1k', "invalid size: '-1k'"],
    ['5q', "invalid suffix: 'q'"],
    ['5kbb', "invalid suffix: 'kbb'"],
    ['5kx', "invalid suffix: 'kx'"],
    ['5kIx', "invalid suffix: 'kix'"],
    ['5bb', "invalid suffix: 'bb'"],
    ['5MBYTES', "invalid suffix: 'MBYTES'"],
    ['1.2.3m', 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'],
    // go-units splits at the last digit, so the space ends up inside the number.
    ['1 2', 'strconv.ParseFloat: parsing "1 2": invalid syntax'],
  ];
  for (const [s, message] of cases) {
    assert.throws(() => parseBytes(s), (e: unknown) => e instanceof TsctrError && e.message === message, s);
  }
});

test('parseDuration: Go time.ParseDuration, in milliseconds', () => {
  const cases: [string, number][] = [
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['1h2m3s4ms', 3_723_004],
    ['2h45m', 9_900_000],
    ['-1.5h', -5_400_000],
    ['+5s', 5000],
    ['0', 0],
    ['-0', 0],
    ['.5s', 500],
    ['1.s', 1000],
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['2000000ns', 2],
  ];
  for (const [s, want] of cases) assert.equal(parseDuration(s), want, s);
});

test('parseDuration errors use Go wording', () => {
  const cases: [string, string][] = [
    ['', 'time: invalid duration ""'],
    ['10', 'time: missing unit in duration "10"'],
    ['1h30', 'time: missing unit in duration "1h30"'],
    ['10x', 'time: invalid duration "10x"'],
    ['s', 'time: invalid duration "s"'],
    ['.s', 'time: invalid duration ".s"'],
    ['-', 'time: invalid duration "-"'],
    ['1 s', 'time: invalid duration "1 s"'],
    ['1d', 'time: invalid duration "1d"'],
  ];
  for (const [s, message] of cases) assert.throws(() => parseDuration(s), (e: unknown) => e instanceof TsctrError && e.message === message, s);
});

test('parseSince: durations, RFC 3339 times and dates, unix seconds', () => {
  const now = Date.UTC(2024, 5, 15, 12, 0, 0, 750);
  const nowSec = Math.floor(now / 1000) * 1000;
  assert.equal(parseSince('10m', now), nowSec - 600_000, 'whole seconds, as docker');
  assert.equal(parseSince('1h30m', now), nowSec - 5_400_000);
  assert.equal(parseSince('-5s', now), nowSec + 5000);
  assert.equal(parseSince('2024-01-01T00:00:00Z', now), Date.UTC(2024, 0, 1));
  assert.equal(parseSince('2024-01-01T00:00:00.5Z', now), Date.UTC(2024, 0, 1, 0, 0, 0, 500));
  assert.equal(parseSince('2024-01-01T10:00:00+02:00', now), Date.UTC(2024, 0, 1, 8));
  assert.equal(parseSince('2024-01-01T10:00:00-01:30', now), Date.UTC(2024, 0, 1, 11, 30));
  assert.equal(parseSince('2024-01-01T10:30Z', now), Date.UTC(2024, 0, 1, 10, 30));
  assert.equal(parseSince('2024-01-01T10Z', now), Date.UTC(2024, 0, 1, 10));
  assert.equal(parseSince('2024-01-01Z', now), Date.UTC(2024, 0, 1));
  // No zone: local time, as docker's ParseInLocation.
  assert.equal(parseSince('2024-01-01', now), new Date(2024, 0, 1).getTime());
  assert.equal(parseSince('2024-03-05T06:07:08', now), new Date(2024, 2, 5, 6, 7, 8).getTime());
  assert.equal(parseSince('2024-03-05T06:07', now), new Date(2024, 2, 5, 6, 7).getTime());
  assert.equal(parseSince('1700000000', now), 1_700_000_000_000);
  assert.equal(parseSince('1700000000.25', now), 1_700_000_000_250);
  assert.equal(parseSince('0', now), 0, '"0" is the epoch, not a zero duration');
  assert.equal(parseSince('10', now), 10_000, 'a bare number is unix seconds');
});

test('parseSince refuses what docker refuses', () => {
  for (const bad of ['yesterday', '10x', '2024-13-01', '2024-02-30', '2024-01-01T25:00:00Z', '2024-01-01 10:00', '1.2.3', '']) {
    assert.throws(() => parseSince(bad, 0), (e: unknown) => e instanceof TsctrError && e.message === `failed to parse value as time or duration: "${bad}"`, bad);
  }
});
