import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TITLE_MAX_UNITS, titleFromPrompt } from './title';

const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'; // 👨‍👩‍👧‍👦, 11 units
const FLAG = '\u{1F1EB}\u{1F1F7}'; // 🇫🇷, 4 units
const E_ACUTE = 'e\u0301'; // e + combining acute, 2 units
const isWellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('titleFromPrompt', () => {
  it('keeps a short prompt exactly as sent', () => {
    for (const p of ['hi', `${FAMILY} ${FLAG} caf${E_ACUTE}`, ' spaced  out ', 'x'.repeat(TITLE_MAX_UNITS)]) expect(titleFromPrompt(p)).toBe(p);
  });

  it('cuts ASCII at 80 units like before', () => {
    expect(titleFromPrompt('a'.repeat(200))).toBe('a'.repeat(80));
  });

  it('never splits an emoji ZWJ sequence', () => {
    const p = 'a'.repeat(75) + FAMILY + 'tail'; // the family would span units 75..86
    expect(titleFromPrompt(p)).toBe('a'.repeat(75));
    const q = 'a'.repeat(69) + FAMILY + 'tail'; // ends exactly at 80
    expect(titleFromPrompt(q)).toBe('a'.repeat(69) + FAMILY);
  });

  it('never splits a flag (regional indicator pair) or a surrogate pair', () => {
    const p = 'a'.repeat(78) + FLAG + 'b';
    expect(titleFromPrompt(p)).toBe('a'.repeat(78));
    const flags = FLAG.repeat(30); // 120 units, 30 graphemes
    expect(titleFromPrompt(flags)).toBe(FLAG.repeat(20));
    const emoji = '\u{1F600}'.repeat(50);
    expect(titleFromPrompt(emoji)).toBe('\u{1F600}'.repeat(40));
  });

  it('never separates a letter from its combining marks', () => {
    const p = 'a'.repeat(79) + E_ACUTE + 'z';
    expect(titleFromPrompt(p)).toBe('a'.repeat(79));
    const q = E_ACUTE.repeat(60); // 120 units
    expect(titleFromPrompt(q)).toBe(E_ACUTE.repeat(40));
  });

  it('drops lone surrogates and keeps everything valid as sent', () => {
    expect(titleFromPrompt('a\uD800b')).toBe('ab');
    expect(titleFromPrompt('\uDC00start')).toBe('start');
    expect(titleFromPrompt(`end\uD83D`)).toBe('end');
    expect(titleFromPrompt(`x\uDE00\uD83D${FAMILY}`)).toBe(`x${FAMILY}`); // reversed pair: both lone
    expect(titleFromPrompt('\uD800'.repeat(100) + 'ok')).toBe('ok');
  });

  it('a single cluster longer than the limit is cut at a code point boundary', () => {
    const zalgo = 'a' + '\u0301'.repeat(100);
    expect(titleFromPrompt(zalgo)).toBe(zalgo.slice(0, 80));
    const emojiStack = '\u{1F600}' + '\u{1F3FB}\u200D\u{1F600}'.repeat(30); // one long ZWJ-ish run
    const t = titleFromPrompt(emojiStack);
    expect(t.length).toBeLessThanOrEqual(80);
    expect(t.length).toBeGreaterThan(0);
    expect(isWellFormed(t)).toBe(true);
  });

  it('any input: at most 80 units, well formed, a prefix of the prompt without its lone surrogates', () => {
    const piece = fc.constantFrom('a', ' ', FAMILY, FLAG, E_ACUTE, '\uD800', '\uDFFF', '\u{1F600}', '\u0301', '\u200D', '\u{1F3FD}');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
        const p = parts.join('');
        const t = titleFromPrompt(p);
        expect(t.length).toBeLessThanOrEqual(TITLE_MAX_UNITS);
        expect(isWellFormed(t)).toBe(true);
        expect(p.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '').startsWith(t)).toBe(true);
      }),
      { seed: 21, numRuns: 500 },
    );
  });
});
