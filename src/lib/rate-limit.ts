import { isIP } from 'node:net';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimits } from '../../schema/index';
import type { Db } from '../db';

/*
 * Request rate limits shared by every server process on the database, without a database round trip per request.
 *
 * The count of each key (a client address, a signed-in caller) lives in PostgreSQL, in rate-limiter-flexible's
 * RateLimiterDrizzle (the `rate_limits` table, a fixed window per key). A process does not spend one point per
 * request there: it leases a block of points at once (`consume(key, block)`, one INSERT … ON CONFLICT DO UPDATE)
 * and spends them from memory, so a key costs at most one statement per `block` requests per process, and a
 * flood from one address updates its row once per block, not once per request.
 *
 * A process leases the next block ahead, when a quarter of a block is left, so that the requests of a busy key
 * seldom wait for the round trip (only when they spend the last quarter faster than the database answers).
 *
 * Exactness. The shared counter only grows, so the leases granted in one window never add up to more than the
 * limit: a lease that crosses the limit is refused by the library, and this process keeps the part that was
 * still free (limit − the count before its lease) and then refuses the key from memory until the window ends,
 * with no further statement. A lease also ends with its window: points not spent by then are dropped, never
 * carried into the next window. So within a window a key is never let through more than its limit in total,
 * across all processes. The price is the other way round: points leased by one process and not spent are lost to
 * the others, so a key may be refused up to (block + block/4) × (processes − 1) requests early (25 per other
 * process with the default block of 20; a key used through one process only gets its whole limit). Windows are
 * fixed, so as with any fixed window a client can spend a whole window's points just before its end and again
 * just after. The window's end is the time computed by the process that started it (hosts' clocks should agree
 * within NTP's error; a skew lets a process spend its last block that much longer).
 *
 * If PostgreSQL cannot be reached, the library falls back to an in-memory limiter with the same limit
 * (`insuranceLimiter`): each process then limits on its own (requests will mostly fail anyway, and /readyz says so).
 */

export interface RequestLimits {
  /** Requests per window from one client address, whoever calls (anonymous included); 0 turns it off. */
  perIp: number;
  /** Requests per window from one signed-in caller (a customer, a staff member, a terminal; head office is exempt); 0 = off. */
  perCaller: number;
  /** The window, in seconds (60: the settings are per minute; tests use a short one). */
  windowSeconds?: number;
  /** Points a process leases from the shared count at once (1 = a statement per request, exact). */
  block?: number;
}

/** A limit whose count is shared in PostgreSQL and spent in leased blocks. */
export class LeasedLimiter {
  private readonly store: RateLimiterDrizzle;
  private readonly leases = new Map<string, Lease>();
  private readonly windowMs: number;
  private sweepAt = 0;
  readonly block: number;
  /** Points left at which the next block is leased ahead (0: no read-ahead, for small blocks). */
  private readonly readAhead: number;

  constructor(
    db: Db,
    name: string,
    readonly points: number,
    windowSeconds: number,
    block: number,
  ) {
    this.windowMs = windowSeconds * 1000;
    this.block = Math.max(1, Math.min(block, points));
    this.readAhead = Math.floor(this.block / 4);
    this.store = new RateLimiterDrizzle({
      storeClient: db,
      schema: rateLimits,
      keyPrefix: name,
      points,
      duration: windowSeconds,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: windowSeconds }),
    });
  }

  /** Takes one request's point for `key`: 0 when it may go on, else the milliseconds until the key's window ends. */
  async take(key: string): Promise<number> {
    for (;;) {
      const now = Date.now();
      if (now >= this.sweepAt) this.sweep(now);
      let l = this.leases.get(key);
      if (!l) {
        l = { left: 0, until: 0, last: false, pending: null };
        this.leases.set(key, l);
      }
      if (l.until <= now) {
        // The window ended: unspent points go with it, and the shared count starts again.
        l.left = 0;
        l.last = false;
      }
      if (l.left > 0) {
        l.left--;
        // Read ahead: lease the next block while a few points are left, so that a busy key seldom waits for it.
        if (l.left <= this.readAhead && !l.pending && !l.last) void this.lease(key, l);
        return 0;
      }
      if (l.pending) {
        // Another request of this key is leasing: wait for its block rather than lease a second one.
        await l.pending;
        continue;
      }
      if (l.last) return l.until - now;
      await this.lease(key, l);
    }
  }

  /** Leases a block into `l` (one statement); never rejects. */
  private lease(key: string, l: Lease): Promise<void> {
    const done = this.consume(key, l).finally(() => (l.pending = null));
    l.pending = done;
    return done;
  }

  private async consume(key: string, l: Lease): Promise<void> {
    let granted: number;
    let res: RateLimiterRes;
    try {
      res = await this.store.consume(key, this.block);
      granted = this.block;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        // The store and its in-memory insurance both failed: let this request through rather than fail it.
        l.left += 1;
        l.until = Math.max(l.until, Date.now() + 1000);
        return;
      }
      // Refused: the count went past the limit with this block. What was still free before it is this process's.
      res = err;
      granted = Math.max(0, Math.min(this.block, this.points - (err.consumedPoints - this.block)));
    }
    const now = Date.now();
    // Points left from a window that has ended (the block started a new one) are not carried over.
    if (res.isFirstInDuration || l.until <= now) l.left = 0;
    l.left += granted;
    l.until = now + res.msBeforeNext;
    // No points left in the shared count this window: once these are spent, refuse without asking again.
    l.last = res.consumedPoints >= this.points;
  }

  /** Forgets the keys whose window ended (memory stays bounded by the keys seen in one window). */
  private sweep(now: number) {
    this.sweepAt = now + this.windowMs;
    for (const [key, l] of this.leases) if (l.until <= now && !l.pending) this.leases.delete(key);
  }
}

interface Lease {
  /** Points leased and not spent yet. */
  left: number;
  /** When the window of the shared count ends (this process's clock). */
  until: number;
  /** The shared count has no more points this window. */
  last: boolean;
  pending: Promise<void> | null;
}

export interface RequestLimiters {
  perIp: LeasedLimiter | null;
  perCaller: LeasedLimiter | null;
}

export function createRequestLimiters(db: Db, limits: RequestLimits): RequestLimiters {
  const window = limits.windowSeconds ?? 60;
  const block = limits.block ?? 20;
  return {
    perIp: limits.perIp > 0 ? new LeasedLimiter(db, 'req-ip', limits.perIp, window, block) : null,
    perCaller: limits.perCaller > 0 ? new LeasedLimiter(db, 'req-caller', limits.perCaller, window, block) : null,
  };
}

/**
 * The client's address for limits and guess counting. `trustProxy` is how many reverse proxies stand in front
 * of the server, each appending the address it saw to X-Forwarded-For: the client is the entry that many hops
 * from the socket (0: the header is ignored, since anyone can send it). An IPv6 client counts by its /64, the
 * block one subscriber is given, so that it cannot take a fresh address for each request.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trustProxy: number): string {
  let address = socketAddress ?? 'unknown';
  if (trustProxy > 0 && forwardedFor) {
    const hops = forwardedFor.split(',').map((s) => s.trim());
    const chain = [...hops, address];
    const candidate = chain[Math.max(0, chain.length - 1 - trustProxy)]!;
    if (isIP(stripBrackets(candidate))) address = stripBrackets(candidate);
  }
  return addressKey(address);
}

const stripBrackets = (a: string) => (a.startsWith('[') && a.endsWith(']') ? a.slice(1, -1) : a);

/** An IPv4 address as is (also when mapped into IPv6), an IPv6 address as its /64 prefix. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0); // a dotted IPv4 tail is two groups
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (g.includes('.') ? g : String(parseInt(g, 16).toString(16)))).join(':')}::/64`;
}
