/** The longest title, in UTF-16 code units (what the conversation list shows). */
export const TITLE_MAX_UNITS = 80;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A conversation's title from its first prompt. Lone surrogates (text no encoding can store;
 * SQLite would turn them into U+FFFD) are dropped; everything else is kept exactly as sent. The
 * cut keeps at most TITLE_MAX_UNITS UTF-16 code units and never splits a grapheme cluster (an
 * emoji ZWJ sequence, a flag, a letter with its combining marks), so a title is as long as the
 * old 80-character cut at most and ends on a whole user-perceived character. A single cluster
 * longer than the limit by itself (pathological stacks of combining marks) is cut at a code
 * point boundary rather than giving an empty title.
 */
export function titleFromPrompt(prompt: string): string {
  const text = prompt.replace(LONE_SURROGATE, '');
  if (text.length <= TITLE_MAX_UNITS) return text;
  let end = 0;
  for (const { segment, index } of graphemes.segment(text)) {
    if (index + segment.length > TITLE_MAX_UNITS) break;
    end = index + segment.length;
  }
  if (end > 0) return text.slice(0, end);
  // the first cluster alone is over the limit: whole code points of it
  let cut = TITLE_MAX_UNITS;
  const c = text.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return text.slice(0, cut);
}
