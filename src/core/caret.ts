/**
 * The one caret renderer: a text on one line and, under it, a line of `^` under a span. Spans are
 * code-point offsets (Rules spec §11), never UTF-16 units, so a non-BMP character before the span
 * (𝐀, an emoji) counts as one. The caret line is laid out in terminal columns: each grapheme
 * before the span is padded by its width (2 for wide East Asian characters and emoji, 0 for
 * combining marks on their own), so the caret sits under the right character on screen.
 */

// Made on first use: creating a Segmenter loads ICU's break data, a sixth of the start-up of
// every command (and of the detection thread) that may never show a caret.
let segmenter: Intl.Segmenter | null = null;

/** Code points shown two columns wide (East Asian Wide and Fullwidth blocks); emoji are tested apart. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x18d08],
  [0x1b000, 0x1b2ff],
  [0x20000, 0x3fffd],
];

const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u;
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|[\u200b-\u200f\u2060])/u;

function isWide(cp: number): boolean {
  if (cp < 0x1100) return false;
  for (const [lo, hi] of WIDE) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** Terminal columns a grapheme cluster takes: 0, 1 or 2. */
function columns(g: string): number {
  if (ZERO_WIDTH.test(g)) return 0;
  if (EMOJI.test(g) || isWide(g.codePointAt(0) as number)) return 2;
  return 1;
}

/**
 * The text (newlines and tabs shown as spaces, so it stays one line) and a caret line under the
 * code points [start, end): at least one `^`, and at most one past the end of the text (an error
 * "at the end of the input" points just after it).
 */
export function caret(text: string, start: number, end: number): string {
  const shown = text.replace(/[\r\n\t]/g, ' ');
  const from = Math.max(0, start);
  const to = Math.max(from, end);
  let cp = 0;
  let before = 0;
  let under = 0;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(shown)) {
    if (cp >= to) break;
    const w = columns(segment);
    if (cp < from) before += w;
    else under += w;
    cp += Array.from(segment).length;
  }
  // A span reaching past the end of the text covers one more column: the end itself.
  if (to > cp) under += 1;
  return `${shown}\n${' '.repeat(before + Math.max(0, from - cp))}${'^'.repeat(Math.max(1, under))}`;
}
