import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, type World } from './support/world';
import type { RequestLimits } from '../src/lib/rate-limit';
import { addressKey, clientAddress, LeasedLimiter } from '../src/lib/rate-limit';
import type { Database } from '../src/db';
import { parseConfig } from '../src/config';

// Request rate limits per client address and per caller, shared by every server process through PostgreSQL
// (rate-limiter-flexible's RateLimiterDrizzle) and spent from memory in leased blocks. Two apps on one database,
// each with its own pool, stand for two server processes.

let t: TestDatabase;
let w: World;
let other: Database;

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  other = t.pool({ max: 5 });
});
afterAll(async () => {
  await t?.drop();
});

type App = ReturnType<typeof createTestApp>['app'];

/** Two "processes" with the same limits on one database, each with its own pool. */
function twoProcesses(limits: RequestLimits, trustProxy = 0): [App, App] {
  return [createTestApp(t.db, { rateLimits: limits, trustProxy }).app, createTestApp(other.db, { rateLimits: limits, trustProxy }).app];
}

/** One request as if from a socket at `ip`; `headers` may add a token, an origin, X-Forwarded-For. */
async function call(app: App, ip: string, opts: { token?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await app.request(
    '/graphql',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      body: opts.body ?? JSON.stringify({ query: '{ __typename }' }),
    },
    { incoming: { socket: { remoteAddress: ip } } },
  );
  return { status: res.status, headers: res.headers, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[] } };
}

const statuses = async (n: number, f: (i: number) => Promise<{ status: number }>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await f(i)).status);
  return out;
};

const sharedCount = async (key: string) => (await t.sql<{ points: number }[]>`select points from rate_limits where key = ${key}`)[0]?.points ?? null;

describe('per client address, across processes', () => {
  it('the 11th request from one address is refused through the other process, with 429, Retry-After and a GraphQL error body', async () => {
    const [a, b] = twoProcesses({ perIp: 10, perCaller: 0, block: 4, windowSeconds: 60 });
    const ip = '203.0.113.10';
    expect(await statuses(8, () => call(a, ip))).toEqual(Array(8).fill(200));
    // Eight requests cost three statements: the shared count moves in blocks of 4 (the third leased ahead, at the
    // seventh request, when one point of the second was left), not per request.
    await vi.waitFor(async () => expect(await sharedCount(`req-ip:${ip}`)).toBe(12), { timeout: 2000, interval: 10 });
    expect(await statuses(2, () => call(a, ip))).toEqual([200, 200]);
    const refused = await call(b, ip, { headers: { origin: 'https://shop.example' } });
    expect(refused.status).toBe(429);
    expect(refused.body.errors).toEqual([{ message: expect.stringMatching(/^Too many requests: try again in \d+ s\.$/), extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) } }]);
    expect(refused.body.data).toBeUndefined();
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    // A browser storefront can read the refusal and when to come back.
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-expose-headers')).toMatch(/retry-after/i);
    // The first process refuses too (from memory), and so does a request with a token: the address is spent.
    expect((await call(a, ip)).status).toBe(429);
    expect((await call(b, ip, { token: w.tokens.shopper })).status).toBe(429);
    // Refused before the body is read or parsed: a malformed document gets 429, not 400.
    expect((await call(b, ip, { body: '{"query": ' })).status).toBe(429);
    // Another address is not affected.
    expect(await statuses(3, (i) => call(i % 2 ? a : b, '203.0.113.11'))).toEqual([200, 200, 200]);
  });

  it('never lets more than the limit through, however the requests alternate between processes', async () => {
    const [a, b] = twoProcesses({ perIp: 10, perCaller: 0, block: 4, windowSeconds: 60 });
    const sequential = await statuses(30, (i) => call(i % 2 ? a : b, '203.0.113.20'));
    const passed = sequential.filter((s) => s === 200).length;
    // At most the limit; at most (block + block/4) × (processes − 1) = 5 fewer, held unspent by the other process.
    expect(passed).toBeLessThanOrEqual(10);
    expect(passed).toBeGreaterThanOrEqual(5);
    expect(sequential.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    // Concurrent requests from one address in both processes: same bound.
    const concurrent = await Promise.all(Array.from({ length: 40 }, (_, i) => call(i % 2 ? a : b, '203.0.113.21')));
    const ok = concurrent.filter((r) => r.status === 200).length;
    expect(ok).toBeLessThanOrEqual(10);
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(concurrent.filter((r) => r.status === 429)).toHaveLength(40 - ok);
  });

  it('starts again when the window ends', async () => {
    const [a, b] = twoProcesses({ perIp: 3, perCaller: 0, block: 2, windowSeconds: 2 });
    const ip = '203.0.113.30';
    expect(await statuses(4, (i) => call(i < 3 ? a : b, ip))).toEqual([200, 200, 200, 429]);
    const refused = await call(a, ip);
    expect(refused.status).toBe(429);
    expect(['1', '2']).toContain(refused.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, 2100));
    expect(await statuses(4, (i) => call(i % 2 ? a : b, ip))).toEqual([200, 200, 200, 429]);
  });

  it('counts an invalid token against the address (before the token is looked up)', async () => {
    const [a] = twoProcesses({ perIp: 2, perCaller: 100, block: 1, windowSeconds: 60 });
    expect(await statuses(3, () => call(a, '203.0.113.40', { token: 'not-a-token' }))).toEqual([401, 401, 429]);
  });
});

describe('the leased count', () => {
  it('three processes hammering one key: never more than the limit, one statement per block', async () => {
    let statements = 0;
    const pools = [0, 1, 2].map(() => t.pool({ max: 3, onQuery: (q) => void (q.includes('rate_limits') && statements++) }));
    const limiters = pools.map((p) => new LeasedLimiter(p.db, 'hammer', 100, 60, 20));
    const outcomes = await Promise.all(Array.from({ length: 600 }, (_, i) => limiters[i % 3]!.take('one-key')));
    const passed = outcomes.filter((ms) => ms === 0).length;
    expect(passed).toBeLessThanOrEqual(100);
    // At most (block + block/4) × (processes − 1) = 50 left unspent in the other processes' hands.
    expect(passed).toBeGreaterThanOrEqual(50);
    // Every refusal says when the window ends.
    for (const ms of outcomes.filter((ms) => ms > 0)) expect(ms).toBeLessThanOrEqual(60_000);
    // 100 / 20 = 5 leases granted in all, and at most one refused per process: not 600 statements.
    expect(statements).toBeLessThanOrEqual(5 + 3);
    const before = statements;
    // Refused from memory until the window ends: no statement more.
    expect(await Promise.all(limiters.map((l) => l.take('one-key')))).not.toContain(0);
    expect(statements).toBe(before);
    for (const p of pools) await p.close();
  });
});

describe('per caller, across processes', () => {
  it("a customer's 6th request is refused through the other process; another customer, anonymous callers and head office go on", async () => {
    const [a, b] = twoProcesses({ perIp: 0, perCaller: 5, block: 2, windowSeconds: 60 });
    // From different addresses (a phone changing networks): the caller's count follows the caller.
    expect(await statuses(5, (i) => call(a, `198.51.100.${i + 1}`, { token: w.tokens.shopper }))).toEqual(Array(5).fill(200));
    const refused = await call(b, '198.51.100.99', { token: w.tokens.shopper });
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another customer through both processes: 3 requests (each process leases a block of 2 of the 5; a 5th could be
    // refused early by the leasing bound, so it is not asked for here).
    expect(await statuses(3, (i) => call(i % 2 ? a : b, '198.51.100.99', { token: w.tokens.other }))).toEqual(Array(3).fill(200));
    expect(await statuses(8, (i) => call(i % 2 ? a : b, '198.51.100.99'))).toEqual(Array(8).fill(200));
    expect(await statuses(8, (i) => call(i % 2 ? a : b, '198.51.100.99', { token: w.tokens.admin }))).toEqual(Array(8).fill(200));
  });

  it('counts a staff session and its terminal separately', async () => {
    const [a, b] = twoProcesses({ perIp: 0, perCaller: 3, block: 1, windowSeconds: 60 });
    expect(await statuses(4, (i) => call(i % 2 ? a : b, '192.0.2.1', { token: w.tokens.associateA }))).toEqual([200, 200, 200, 429]);
    expect(await statuses(3, (i) => call(i % 2 ? a : b, '192.0.2.1', { token: w.tokens.terminalA }))).toEqual([200, 200, 200]);
    expect(await statuses(3, (i) => call(i % 2 ? a : b, '192.0.2.1', { token: w.tokens.managerA }))).toEqual([200, 200, 200]);
  });
});

describe('the client address', () => {
  it('ignores X-Forwarded-For unless told how many proxies stand in front', async () => {
    const [direct] = twoProcesses({ perIp: 2, perCaller: 0, block: 1, windowSeconds: 60 });
    const spoofed = (i: number) => call(direct, '203.0.113.50', { headers: { 'x-forwarded-for': `10.0.0.${i}` } });
    expect(await statuses(3, spoofed)).toEqual([200, 200, 429]);

    const [proxied] = twoProcesses({ perIp: 2, perCaller: 0, block: 1, windowSeconds: 60 }, 1);
    // Behind one proxy (203.0.113.60), the address it appended is the client's; what the client wrote before it is not.
    const viaProxy = (client: string, claimed?: string) =>
      call(proxied, '203.0.113.60', { headers: { 'x-forwarded-for': claimed ? `${claimed}, ${client}` : client } });
    expect(await statuses(3, (i) => viaProxy('198.51.100.70', `10.9.9.${i}`))).toEqual([200, 200, 429]);
    expect(await statuses(2, () => viaProxy('198.51.100.71'))).toEqual([200, 200]);
  });

  it('groups IPv6 clients by /64 and unwraps IPv4-mapped addresses', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddress('10.0.0.1', '192.0.2.1, 192.0.2.2', 2)).toBe('192.0.2.1');
    expect(clientAddress('10.0.0.1', '192.0.2.2', 5)).toBe('192.0.2.2');
    expect(clientAddress('10.0.0.1', 'garbage', 1)).toBe('10.0.0.1');
    expect(clientAddress(undefined, undefined, 0)).toBe('unknown');
  });
});

describe('configuration', () => {
  it('is on by default (npm start), off with 0, and refuses nonsense', () => {
    const defaults = parseConfig({});
    expect([defaults.RATE_LIMIT_PER_IP_PER_MINUTE, defaults.RATE_LIMIT_PER_CALLER_PER_MINUTE, defaults.RATE_LIMIT_BLOCK, defaults.TRUST_PROXY]).toEqual([3000, 600, 20, 0]);
    const off = parseConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: '0', RATE_LIMIT_PER_CALLER_PER_MINUTE: '0', TRUST_PROXY: '1' });
    expect([off.RATE_LIMIT_PER_IP_PER_MINUTE, off.RATE_LIMIT_PER_CALLER_PER_MINUTE, off.TRUST_PROXY]).toEqual([0, 0, 1]);
    expect(() => parseConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_PER_IP_PER_MINUTE/);
    expect(() => parseConfig({ RATE_LIMIT_BLOCK: '0' })).toThrow(/RATE_LIMIT_BLOCK/);
  });
});
