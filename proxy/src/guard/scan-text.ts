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
   * For each character of `text`, the original offset it came from; undefined while normalisation
   * never changed a length (ASCII, and one-for-one replacements such as full-width digits or
   * look-alike letters), so offsets are the same in both. Capacity may exceed `text.length`.
   */
  #origins: Int32Array | undefined;
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
    this.text += this.#normalise(piece, pieceStart);
  }

  /**
   * One pass over code units with a table lookup each (the table fills as characters are first
   * seen), written into a typed array: fast enough for text that is all non-ASCII.
   */
  #normalise(piece: string, pieceStart: number): string {
    let out = new Uint16Array(piece.length + 16);
    let len = 0;
    const textStart = this.text.length;
    const put = (unit: number, origin: number) => {
      if (len === out.length) out = grow(out, out.length * 2);
      out[len] = unit;
      if (this.#origins) this.#setOrigin(textStart + len, origin);
      len++;
    };
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      const mapped = c < 0x80 ? c + 1 : UNIT_TABLE[c] || classify(c);
      if (mapped > 0) {
        put(mapped - 1, pieceStart + i);
        continue;
      }
      const width = c >= 0xd800 && c <= 0xdbff && i + 1 < piece.length ? 2 : 1;
      const replacement = normaliseCodePoint(piece.slice(i, i + width));
      if (replacement.length !== width && this.#origins === undefined) this.#materialise(textStart + len);
      for (let k = 0; k < replacement.length; k++) put(replacement.charCodeAt(k), pieceStart + i);
      i += width - 1;
    }
    return UTF16.decode(out.subarray(0, len));
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
    const o = this.#origins;
    if (o === undefined) return [start, end];
    const n = this.text.length;
    const from = start < n ? o[start]! : this.scannedOriginalEnd;
    // The end runs to the next kept character, so dropped characters inside the span go with it.
    let to = end < n ? o[end]! : this.scannedOriginalEnd;
    if (end > 0 && to <= o[end - 1]!) to = o[end - 1]! + 1;
    return [from, to];
  }

  /** Forgets everything before scanned offset `n` (already emitted by a stream): memory stays bounded. */
  dropBefore(n: number): number {
    const originalCut = n < this.text.length ? this.toOriginal(n, n + 1)[0] : this.scannedOriginalEnd;
    if (this.#origins) {
      const kept = this.#origins.slice(n, this.text.length);
      for (let i = 0; i < kept.length; i++) kept[i]! -= originalCut;
      this.#origins = grow(kept, Math.max(16, kept.length * 2));
    }
    this.text = this.text.slice(n);
    this.originalLength -= originalCut;
    return originalCut;
  }

  /** From here on lengths differ: record origins, the first `upTo` characters being their own. */
  #materialise(upTo: number): void {
    const o = new Int32Array(Math.max(16, upTo * 2));
    for (let i = 0; i < upTo; i++) o[i] = i;
    this.#origins = o;
  }

  #setOrigin(at: number, origin: number): void {
    if (at >= this.#origins!.length) this.#origins = grow(this.#origins!, at * 2 + 16);
    this.#origins![at] = origin;
  }
}

function grow<T extends Uint16Array | Int32Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}

const UTF16 = new TextDecoder('utf-16le');

/**
 * For each BMP code unit: its one-unit replacement plus one, -1 when it needs `normaliseCodePoint`
 * (dropped, several units, or a surrogate), 0 while not yet looked at.
 */
const UNIT_TABLE = new Int32Array(65_536);

function classify(c: number): number {
  if (c >= 0xd800 && c <= 0xdfff) {
    UNIT_TABLE[c] = -1;
    return -1;
  }
  const mapped = computeNormalised(String.fromCharCode(c));
  UNIT_TABLE[c] = mapped.length === 1 ? mapped.charCodeAt(0) + 1 : -1;
  return UNIT_TABLE[c]!;
}

const NON_ASCII = /[\u0080-\uffff]/;
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

/** Normalised code points seen so far: most texts repeat a few non-ASCII characters many times. */
const normalised = new Map<string, string>();
const MEMO_LIMIT = 65_536;

function normaliseCodePoint(ch: string): string {
  let mapped = normalised.get(ch);
  if (mapped === undefined) {
    mapped = computeNormalised(ch);
    if (normalised.size < MEMO_LIMIT) normalised.set(ch, mapped);
  }
  return mapped;
}

function computeNormalised(ch: string): string {
  if (FORMAT.test(ch)) return '';
  if (DASHES.test(ch)) return '-';
  const confusable = CONFUSABLES[ch];
  if (confusable) return confusable;
  return ch.normalize('NFKC');
}
