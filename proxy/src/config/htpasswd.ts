/** One line of an htpasswd file that names a user and a hash of an accepted scheme. */
export interface HtpasswdEntry {
  user: string;
  scheme: 'bcrypt' | 'sha1';
  hash: string;
}

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const SHA1_BASE64 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

/**
 * Reads an htpasswd file: `user:hash` per line, bcrypt (`$2a$`, `$2b$`, `$2y$`) or `{SHA}` (base64 of
 * SHA-1). Other schemes (MD5-crypt `$apr1$`, crypt(3), plain text) are refused line by line: they are
 * weak, and accepting plain text would turn any file into a password list. Problems name the line and
 * user, never the hash. The operator reports them in status; the proxy serves the good lines.
 */
export function readHtpasswd(text: string): { entries: HtpasswdEntry[]; problems: string[] } {
  const entries: HtpasswdEntry[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const colon = trimmed.indexOf(':');
    const user = trimmed.slice(0, Math.max(colon, 0));
    const hash = trimmed.slice(colon + 1);
    const scheme = BCRYPT.test(hash) ? 'bcrypt' : SHA1_BASE64.test(hash) ? 'sha1' : undefined;
    if (colon <= 0) problems.push(`line ${i + 1}: not user:hash`);
    else if (seen.has(user)) problems.push(`line ${i + 1}: user ${user} appears twice`);
    else if (!scheme) problems.push(`line ${i + 1} (${user}): ${schemeProblem(hash)}`);
    else {
      seen.add(user);
      entries.push({ user, scheme, hash });
    }
  }
  return { entries, problems };
}

function schemeProblem(hash: string): string {
  if (hash.startsWith('$apr1$') || hash.startsWith('$1$'))
    return 'MD5-crypt hashes are not accepted; use bcrypt';
  if (hash.startsWith('{SHA}')) return '{SHA} hash is not 20 bytes of base64';
  return 'unsupported hash scheme; use bcrypt (htpasswd -B) or {SHA}';
}
