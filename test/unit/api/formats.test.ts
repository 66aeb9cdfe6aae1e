import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  isKnownTimeZone,
  isValidCron,
  parseDuration,
  parsePercent,
} from '../../../operator/api/index.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['2h0m10s', 7_210_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '15', '1d', '-5s', 'm', '1h 30m', '1H', 's1'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([0, 250, 90_000, 5_400_000, 7_210_000])('formats %d ms back to itself', (ms) => {
    expect(parseDuration(formatDuration(ms)) ?? 0).toBe(ms);
  });
});

describe('parsePercent', () => {
  it.each([
    ['0%', 0],
    ['10%', 0.1],
    ['100%', 1],
  ])('%s is %d', (text, fraction) => {
    expect(parsePercent(text)).toBe(fraction);
  });
  it.each(['101%', '10', '05%', '1.5%', '-1%'])('%j is not a percentage', (text) => {
    expect(parsePercent(text)).toBeUndefined();
  });
});

describe('cron and time zones', () => {
  it.each(['*/15 * * * *', '0 2 * * 1-5', '30 6 1 jan,jul *', '0 0 * * sun'])(
    '%s is valid',
    (c) => {
      expect(isValidCron(c)).toBe(true);
    },
  );
  it.each(['61 * * * *', '* 24 * * *', '* * * * * *', '* * *', '@daily', 'not a cron at all'])(
    '%s is invalid',
    (c) => {
      expect(isValidCron(c)).toBe(false);
    },
  );
  it('knows IANA zones and refuses invented ones', () => {
    expect(isKnownTimeZone('Europe/Paris')).toBe(true);
    expect(isKnownTimeZone('Etc/UTC')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
