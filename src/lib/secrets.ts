import { randomBytes, scrypt, timingSafeEqual, createHash } from 'node:crypto';
import { promisify } from 'node:util';
import stringify from 'safe-stable-stringify';
import argon2 from 'argon2';
import { config } from '../config';
import { Semaphore } from './semaphore';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
// Staff PINs: OWASP's scrypt minimum (N=2^17, r=8, p=1) costs ~128 MiB and ~0.3 s: too much for PIN pads on two
// cores. N=2^15 keeps ~50 ms per check; lockout after a few failures is what stops guessing a 4-6 digit PIN.
// Customer passwords use argon2id (below).
const PARAMS = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEYLEN = 32;

/**
 * Every hash computed (scrypt PINs and argon2id passwords) waits for one of HASH_CONCURRENCY slots: each costs
 * 19-32 MiB and a core while it runs, so a burst of anonymous sign-ins queues instead of exhausting memory.
 */
export const hashing = new Semaphore(config.HASH_CONCURRENCY);

/**
 * Customer passwords: argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1), ~30 ms here.
 * The encoded form ($argon2id$v=19$m=…,t=…,p=…$salt$hash) carries its parameters, so they can rise later.
 */
const PASSWORD = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hashing.run(() => argon2.hash(password.normalize('NFKC'), PASSWORD));

/** Whether a stored password hash is below the current bar (scrypt from before, or older argon2 parameters). */
export const passwordNeedsRehash = (encoded: string): boolean => !encoded.startsWith('$argon2id$') || argon2.needsRehash(encoded, PASSWORD);

/** Checks a password against its stored hash: argon2id, or the scrypt of accounts made before (rehashed on sign-in). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (!encoded.startsWith('$argon2')) return verifySecret(password, encoded);
  try {
    return await hashing.run(() => argon2.verify(encoded, password.normalize('NFKC')));
  } catch {
    return false; // a malformed stored hash never signs anyone in
  }
}

/** scrypt with a random per-secret salt, encoded with its parameters so they can change later (staff PINs). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await hashing.run(() => scryptAsync(secret.normalize('NFKC'), salt, KEYLEN, PARAMS));
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = encoded.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await hashing.run(() =>
    scryptAsync(secret.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: PARAMS.maxmem,
    }),
  );
  return timingSafeEqual(actual, expected);
}

/** A bearer token: 256 random bits with a readable prefix; only its SHA-256 is stored (it has full entropy). */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Stable hash of a JSON value (sorted keys), for idempotency request fingerprints. */
export function fingerprint(value: unknown): string {
  return createHash('sha256')
    .update(stringify(value) ?? 'null')
    .digest('hex');
}
