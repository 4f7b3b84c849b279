/**
 * API key tokens. A token is `hgk_<key id>_<secret>`: the key id (20 characters of base32) is
 * public and finds the key in one lookup; the secret (32 random bytes, base64url) is shown once,
 * when the key is created, and only its scrypt hash is stored. The `hgk_` prefix lets secret
 * scanners (and people) recognise a leaked Hourglass key.
 *
 * scrypt is Node's own (node:crypto), with parameters stored beside each hash
 * (`scrypt$N$r$p$salt$hash`), so they can be raised later without invalidating existing keys.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { UnauthenticatedError } from '@hourglass/common';

export const TOKEN_PREFIX = 'hgk_';
const KEY_ID_LENGTH = 20;
const SECRET_BYTES = 32;
const SECRET_LENGTH = 43; // base64url of 32 bytes, unpadded
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}([a-z2-7]{${KEY_ID_LENGTH}})_([A-Za-z0-9_-]{${SECRET_LENGTH}})$`);

/** scrypt cost: ~30–60 ms and 16 MiB per verification on a server core, on the thread pool. */
export const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

export interface ParsedToken {
  keyId: string;
  secret: string;
}

/** A new key id: 100 random bits in base32 (unique across accounts; the store refuses a repeat). */
export function newKeyId(): string {
  const bytes = randomBytes(KEY_ID_LENGTH);
  let id = '';
  for (const byte of bytes) id += BASE32[byte & 31];
  return id;
}

/** A new token for `keyId`, and its secret. */
export function newToken(keyId: string): { token: string; secret: string } {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { token: `${TOKEN_PREFIX}${keyId}_${secret}`, secret };
}

/**
 * The key id and secret of a presented token. A malformed one is refused without saying more
 * than its shape: the message never echoes any of it.
 */
export function parseToken(token: string): ParsedToken {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) throw new UnauthenticatedError(`malformed API key: expected ${TOKEN_PREFIX}<key id>_<secret> (${token.length} characters given)`);
  return { keyId: match[1] as string, secret: match[2] as string };
}

/** The key id of a token if it has the shape of one, for logs and audit (never the secret). */
export function keyIdOf(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}

function scryptAsync(secret: string, salt: Buffer, params: ScryptOptions & { N: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, { ...params, maxmem: 128 * params.N * (params.r ?? 8) * 2 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** The stored form of a secret: `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(secret, salt, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Whether `secret` is the one `stored` was made from (constant time in the hash comparison). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4] as string, 'base64url');
  const expected = Buffer.from(parts[5] as string, 'base64url');
  const actual = await scryptAsync(secret, salt, { N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fast digest of a whole token, for recognising a token already verified (never stored). */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
