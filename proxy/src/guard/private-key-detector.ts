import type { DetectorSpec, Match } from './detector.ts';

/** Longest key body kept as one finding (an RSA 8192 PEM is about 6.5 KB). */
const MAX_BODY = 16_384;
const HEADER = /-----BEGIN (?:[A-Z0-9]{1,10} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
const FOOTER = /-----END (?:[A-Z0-9]{1,10} ){0,4}PRIVATE KEY(?: BLOCK)?-----/y;
/**
 * A truncated key (no footer) is still a secret: its header and the base64 lines after it. The body
 * has no `-`, so a run of headers cannot make one body span the next header.
 */
const BODY = /(?:[A-Za-z0-9+/=\s]|\\[nr]){64,16384}/y;

/**
 * PEM and PGP private keys, in plain text or inside JSON strings with `\n` escapes, from header to
 * footer. Not a single regex: a lazy body quantifier rescans up to 16 KB after every header, which
 * made text of repeated headers quadratic. Here each header costs one sticky match, and the search for
 * the next footer is remembered across headers of the same text, so the scan stays linear.
 */
export const privateKeyDetector: DetectorSpec = {
  maxLength: 120 + MAX_BODY,
  replacement: '<PRIVATE_KEY>',
  triggers: ['-----BEGIN'],
  next(text, from) {
    const footers = footerFinder(text);
    HEADER.lastIndex = from;
    for (let h = HEADER.exec(text); h !== null; h = HEADER.exec(text)) {
      const bodyStart = h.index + h[0].length;
      const footer = footers(bodyStart);
      if (footer !== -1 && footer - bodyStart <= MAX_BODY) {
        FOOTER.lastIndex = footer;
        const f = FOOTER.exec(text);
        if (f) return { start: h.index, end: footer + f[0].length };
      }
      BODY.lastIndex = bodyStart;
      const body = BODY.exec(text);
      if (body) return truncatedKey(h.index, bodyStart + body[0].length);
      HEADER.lastIndex = bodyStart;
    }
    return undefined;
  },
};

const truncatedKey = (start: number, end: number): Match => ({ start, end });

/** The first `-----END ` at or after a position, searching each stretch of the text once. */
function footerFinder(text: string): (from: number) => number {
  let searchedFrom = Number.POSITIVE_INFINITY;
  let found = -1;
  return (from) => {
    if (from >= searchedFrom && (found === -1 || found >= from)) return found;
    searchedFrom = from;
    found = text.indexOf('-----END ', from);
    return found;
  };
}
