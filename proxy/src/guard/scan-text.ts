/**
 * The text detectors read, built from the text a client or provider sent: format characters (zero
 * width spaces and joiners, soft hyphens, bidi controls) removed, each code point in NFKC (full-width
 * digits and `＠` become ASCII, a no-break space a space), dashes of every kind a hyphen, and Latin
 * look-alikes from Cyrillic and Greek mapped to the letter they imitate (the confusables skeleton of
 * Unicode TS #39, for the letters that occur in key prefixes and domains). Every scanned character
 * keeps the offset of the original character it came from, so masking removes the whole original
 * span, invisible characters inside a secret included.
 *
 * Normalisation is per code point, never across code points, so text can be appended piece by piece
 * (a stream) and gives the same result as normalising it at once.
 */
export class ScanText {
  /** The normalised text detectors run on. */
  text = '';
  /** Length of the original text appended so far (UTF-16 units). */
  originalLength = 0;
  /**
   * For each character of `text`, the original offset it came from; undefined while every
   * character so far was ASCII and kept as is (the common case, and no array is built).
   */
  #origins: number[] | undefined;
  /** A high surrogate that ended the last piece: its pair comes with the next one. */
  #pendingHigh = '';

  static of(original: string): ScanText {
    const t = new ScanText();
    t.append(original, true);
    return t;
  }

  /** Adds original text; `final` says no more follows, so a trailing high surrogate is not held. */
  append(original: string, final = false): void {
    let piece = this.#pendingHigh + original;
    const pieceStart = this.originalLength - this.#pendingHigh.length;
    this.#pendingHigh = '';
    const last = piece.charCodeAt(piece.length - 1);
    if (!final && last >= 0xd800 && last <= 0xdbff) {
      this.#pendingHigh = piece.slice(-1);
      piece = piece.slice(0, -1);
    }
    this.originalLength = pieceStart + piece.length + this.#pendingHigh.length;
    if (this.#origins === undefined && !NON_ASCII.test(piece)) {
      this.text += piece;
      return;
    }
    const origins = this.#materialise();
    let out = '';
    let at = 0;
    for (const run of piece.matchAll(NON_ASCII_RUN)) {
      const ascii = piece.slice(at, run.index);
      out += ascii;
      for (let i = 0; i < ascii.length; i++) origins.push(pieceStart + at + i);
      let offset = run.index;
      for (const ch of run[0]) {
        const mapped = normaliseCodePoint(ch);
        out += mapped;
        for (let i = 0; i < mapped.length; i++) origins.push(pieceStart + offset);
        offset += ch.length;
      }
      at = run.index + run[0].length;
    }
    const tail = piece.slice(at);
    out += tail;
    for (let i = 0; i < tail.length; i++) origins.push(pieceStart + at + i);
    this.text += out;
  }

  /** No more text: a lone high surrogate left over is kept as it is. */
  end(): void {
    if (this.#pendingHigh === '') return;
    this.append('', true);
  }

  /** Original offset just after the last scanned character (a held-back high surrogate excluded). */
  get scannedOriginalEnd(): number {
    return this.originalLength - this.#pendingHigh.length;
  }

  /** The original span a finding at `[start, end)` of `text` covers. */
  toOriginal(start: number, end: number): [number, number] {
    if (this.#origins === undefined) return [start, end];
    const o = this.#origins;
    const from = start < o.length ? o[start]! : this.originalLength;
    // The end runs to the next kept character, so dropped characters inside the span go with it.
    let to = end < o.length ? o[end]! : this.originalLength - this.#pendingHigh.length;
    if (to <= o[end - 1]!) to = o[end - 1]! + 1;
    return [from, to];
  }

  /** Where original offset `offset` lands in `text`: the first scanned character at or after it. */
  fromOriginal(offset: number): number {
    if (this.#origins === undefined) return offset;
    const o = this.#origins;
    let lo = 0;
    let hi = o.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (o[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Forgets everything before scanned offset `n` (already emitted by a stream): memory stays bounded. */
  dropBefore(n: number): number {
    const originalCut =
      n < this.text.length ? this.toOriginal(n, n + 1)[0] : this.originalLength - this.#pendingHigh.length;
    this.text = this.text.slice(n);
    if (this.#origins) this.#origins = this.#origins.slice(n).map((o) => o - originalCut);
    this.originalLength -= originalCut;
    return originalCut;
  }

  #materialise(): number[] {
    if (this.#origins === undefined) this.#origins = Array.from({ length: this.text.length }, (_, i) => i);
    return this.#origins;
  }
}

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_RUN = /[^\x00-\x7f]+/g;
/** Format characters (Unicode category Cf): invisible, and the classic way to split a secret. */
const FORMAT = /^\p{Cf}$/u;
/** Hyphens, dashes and minus signs NFKC leaves alone. */
const DASHES = /^[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58]$/u;

/** Cyrillic and Greek letters drawn like Latin ones (Unicode confusables, the unambiguous ones). */
const CONFUSABLES: Readonly<Record<string, string>> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  У: 'Y',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  Ԁ: 'D',
  Ԛ: 'Q',
  Ԝ: 'W',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
  ο: 'o',
  ν: 'v',
  ρ: 'p',
  ι: 'i',
  κ: 'k',
  υ: 'u',
  χ: 'x',
};

function normaliseCodePoint(ch: string): string {
  if (FORMAT.test(ch)) return '';
  if (DASHES.test(ch)) return '-';
  const confusable = CONFUSABLES[ch];
  if (confusable) return confusable;
  return ch.normalize('NFKC');
}
