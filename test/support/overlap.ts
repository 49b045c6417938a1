import type postgres from 'postgres';
import type { TestDatabase } from './db';

/** Takes, in the gate's open transaction, the lock that both contenders need. */
export type GateLock = (sql: postgres.ReservedSql) => postgres.PendingQuery<postgres.Row[]>;

/**
 * Runs two contenders so that they really overlap, instead of hoping they do.
 *
 * A third connection opens a transaction and takes the lock both need (`lock`: usually `select ... for update`
 * of the contended row: the order line, the fulfilment, the stock level, the loyalty account). Then both
 * contenders start, and pg_stat_activity is polled until both are seen waiting on a lock (wait_event_type
 * 'Lock') behind the gate, directly or behind each other. Only then does the gate roll back (it never writes
 * anything) and release them together. If both are not seen waiting within `timeoutMs`, or one finishes first
 * (it never needed the lock), the test fails: such a "race" would have been decided by scheduling luck.
 *
 * Returns both outcomes, settled, in order.
 */
export async function overlap<A, B>(
  t: TestDatabase,
  lock: GateLock,
  contenders: [() => Promise<A>, () => Promise<B>],
  timeoutMs = 5000,
): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
  const outcomes: (PromiseSettledResult<unknown> | undefined)[] = [undefined, undefined];
  let settled: Promise<unknown> | undefined;
  let failure: unknown;
  const gate = await t.sql.reserve();
  try {
    await gate`begin`;
    const gatePid = (await gate<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
    const locked = await lock(gate);
    if (locked.command === 'SELECT' && locked.length === 0) throw new Error('overlap: the gate locked nothing (no contended row found)');

    settled = Promise.all(
      contenders.map((start, i) =>
        start().then(
          (value) => (outcomes[i] = { status: 'fulfilled', value }),
          (reason: unknown) => (outcomes[i] = { status: 'rejected', reason }),
        ),
      ),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = await waitingBehind(t, gatePid);
      if (waiting >= 2) break;
      const finished = outcomes.findIndex(Boolean);
      if (finished >= 0) throw new Error(`overlap: contender ${finished + 1} finished without waiting on the contended lock: ${describe(outcomes[finished]!)}`);
      if (Date.now() > deadline) throw new Error(`overlap: only ${waiting} of 2 contenders were seen waiting on the contended lock within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } catch (err) {
    failure = err;
  } finally {
    await gate`rollback`;
    gate.release();
  }
  // Released: let both finish either way, so that nothing of this race runs on into the next test.
  await settled;
  if (failure) throw failure;
  return outcomes as [PromiseSettledResult<A>, PromiseSettledResult<B>];
}

/** How many backends of this database wait on a lock held by the gate, directly or through another waiter. */
async function waitingBehind(t: TestDatabase, gatePid: number): Promise<number> {
  const rows = await t.sql<{ pid: number; blockers: number[] }[]>`
    select pid, pg_blocking_pids(pid) as blockers from pg_stat_activity
     where datname = current_database() and wait_event_type = 'Lock'`;
  const behind = new Set<number>([gatePid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows)
      if (!behind.has(r.pid) && r.blockers.some((p) => behind.has(p))) {
        behind.add(r.pid);
        grew = true;
      }
  }
  return behind.size - 1;
}

const describe = (o: PromiseSettledResult<unknown>) => {
  if (o.status === 'rejected') return `rejected with ${o.reason instanceof Error ? `${o.reason.name}: ${o.reason.message}` : String(o.reason)}`;
  try {
    return `fulfilled with ${JSON.stringify(o.value)?.slice(0, 300)}`;
  } catch {
    return 'fulfilled';
  }
};

/** The values of settled outcomes; throws the first rejection. */
export function values<T extends readonly PromiseSettledResult<unknown>[]>(outcomes: T): { [K in keyof T]: T[K] extends PromiseSettledResult<infer V> ? V : never } {
  return outcomes.map((o) => {
    if (o.status === 'rejected') throw o.reason;
    return o.value;
  }) as never;
}
