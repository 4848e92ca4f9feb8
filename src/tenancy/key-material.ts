import { createHash, randomBytes } from 'node:crypto';

/** Every generated key starts with this, so a leaked one is easy to recognise (and to scan for). */
export const KEY_PREFIX = 'olly_';

/** Characters of a key kept in clear for humans to tell keys apart: `olly_` and 5 random ones (30 of 192 bits). */
const SHOWN_CHARS = KEY_PREFIX.length + 5;

/** SHA-256 of the key, hex: the only form in which a key is ever stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new key: `olly_` and 24 random bytes in base64url (192 bits). */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

/** The start of the key shown in listings. */
export function shownPrefixOf(key: string): string {
  return key.slice(0, SHOWN_CHARS);
}

/** A key's public id: safe to print, log and pass on a command line, unlike the key. */
export function newKeyId(): string {
  return 'key_' + randomBytes(8).toString('hex');
}
