import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { type HtpasswdEntry, readHtpasswd } from '../config/htpasswd.ts';

/** The users of an htpasswd file, each with the password check its hash scheme needs. */
export function htpasswdUsers(text: string): Map<string, (password: string) => Promise<boolean>> {
  return new Map(readHtpasswd(text).entries.map((e) => [e.user, verifierFor(e)]));
}

function verifierFor(entry: HtpasswdEntry): (password: string) => Promise<boolean> {
  if (entry.scheme === 'bcrypt') return (password) => bcrypt.compare(password, entry.hash);
  const expected = Buffer.from(entry.hash.slice(5), 'base64');
  return async (password) => timingSafeEqual(createHash('sha1').update(password).digest(), expected);
}
