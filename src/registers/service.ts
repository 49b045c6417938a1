import { and, desc, eq, sql } from 'drizzle-orm';
import { registerSessions, cashMovements } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { fail } from '../lib/errors';
import type { Clock } from '../lib/clock';
import { actorOf, isManager, type Viewer, type StaffViewer } from '../access/viewer';
import { once, replayOr } from '../idempotency/service';

/*
 * A till's cash drawer. A register session belongs to a terminal; expectedCash on its row is the running sum
 * of its cash movements (append-only), changed only by one guarded UPDATE per movement, so the drawer never
 * goes below zero and two sales at one till never lose an update. Orders call takeCash and payOutCash inside
 * their own transactions; the session row comes last in the lock order (src/db.ts).
 */

export type RegisterSession = typeof registerSessions.$inferSelect;
export type CashMovementKind = (typeof cashMovements.$inferInsert)['kind'];

/** A cash movement recorded by hand at the till; sales, refunds and change come from orders. */
const MANUAL = ['PAID_IN', 'PAID_OUT', 'DROP'] as const;
const SIGN: Record<(typeof MANUAL)[number], 1 | -1> = { PAID_IN: 1, PAID_OUT: -1, DROP: -1 };

function tillStaff(viewer: Viewer): StaffViewer {
  if (viewer.kind !== 'staff' || viewer.channel !== 'POS') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'The register is run by staff signed in at a store till.');
  return viewer;
}

const MAX_CASH = 100_000_000;
function amountOk(amount: number, field: string[]) {
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > MAX_CASH) fail('INVALID_INPUT', `An amount from 0 to ${MAX_CASH} minor units.`, field);
}

export async function currentSession(db: Queryable, terminalId: string): Promise<RegisterSession | null> {
  const [s] = await db.select().from(registerSessions).where(and(eq(registerSessions.terminalId, terminalId), eq(registerSessions.status, 'OPEN')));
  return s ?? null;
}

export async function sessionById(db: Queryable, id: string): Promise<RegisterSession | null> {
  const [s] = await db.select().from(registerSessions).where(eq(registerSessions.id, id));
  return s ?? null;
}

/** The till's open session (staff), or a location's latest session (head office, or staff of that store). */
export async function registerSessionFor(db: Db, viewer: Viewer, locationId: string | null): Promise<RegisterSession | null> {
  if (viewer.kind === 'staff' && !locationId) return currentSession(db, viewer.terminalId);
  if (!locationId) fail('INVALID_INPUT', 'Give locationId.', ['locationId']);
  if (viewer.kind !== 'admin' && !(viewer.kind === 'staff' && viewer.locationId === locationId)) fail('FORBIDDEN', 'Only head office or the store’s staff see its registers.', ['locationId']);
  const [s] = await db.select().from(registerSessions).where(eq(registerSessions.locationId, locationId)).orderBy(desc(registerSessions.status), desc(registerSessions.openedAt)).limit(1);
  return s ?? null;
}

/**
 * Adds `delta` to the till's open session in one guarded statement and records the movements. Throws
 * REGISTER_CLOSED when the till has no open session, INSUFFICIENT_CASH_IN_DRAWER when the drawer would go
 * below zero.
 */
async function move(
  tx: Tx,
  terminalId: string,
  movements: { kind: CashMovementKind; delta: number }[],
  ctx: { actor: string; orderId?: string | null; reason?: string | null; now: Date; field?: (string | number)[] },
): Promise<RegisterSession> {
  const delta = movements.reduce((s, m) => s + m.delta, 0);
  const [s] = await tx
    .update(registerSessions)
    .set({ expectedCash: sql`${registerSessions.expectedCash} + ${delta}` })
    .where(and(eq(registerSessions.terminalId, terminalId), eq(registerSessions.status, 'OPEN'), sql`${registerSessions.expectedCash} + ${delta} >= 0`))
    .returning();
  if (!s) {
    const open = await currentSession(tx, terminalId);
    if (!open) fail('REGISTER_CLOSED', 'This till’s register is not open: open it (openRegister) before taking or giving cash.', ctx.field);
    fail(
      'INSUFFICIENT_CASH_IN_DRAWER',
      `The drawer holds ${open.expectedCash}, not enough for ${-delta}: refund to store credit (refundMethod STORE_CREDIT) or to a card instead.`,
      ctx.field,
    );
  }
  const rows = movements.filter((m) => m.delta !== 0).map((m) => ({ sessionId: s.id, kind: m.kind, delta: m.delta, orderId: ctx.orderId ?? null, reason: ctx.reason ?? null, actor: ctx.actor, createdAt: ctx.now }));
  if (rows.length) await tx.insert(cashMovements).values(rows);
  return s;
}

/** A cash payment at the till: what was handed over goes in, the change comes out. */
export const takeCash = (tx: Tx, terminalId: string, cash: { tendered: number; change: number }, ctx: { actor: string; orderId: string; now: Date; field?: (string | number)[] }) =>
  move(
    tx,
    terminalId,
    [
      { kind: 'CASH_SALE', delta: cash.tendered },
      { kind: 'CHANGE_GIVEN', delta: -cash.change },
    ],
    ctx,
  );

/** A cash refund out of the till's drawer (never more than it holds). */
export const payOutCash = (tx: Tx, terminalId: string, amount: number, ctx: { actor: string; orderId: string; now: Date; field?: (string | number)[] }) =>
  move(tx, terminalId, [{ kind: 'CASH_REFUND', delta: -amount }], { ...ctx, field: ctx.field ?? ['input', 'refundMethod'] });

export async function openRegister(db: Db, viewer: Viewer, input: { idempotencyKey: string; openingFloat: number }, clock: Clock): Promise<RegisterSession> {
  const staff = tillStaff(viewer);
  amountOk(input.openingFloat, ['input', 'openingFloat']);
  const scope = { actor: actorOf(viewer), key: input.idempotencyKey, operation: 'openRegister', request: input };
  const id = await replayOr(db, scope, () =>
    inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const now = clock();
        const [s] = await tx
          .insert(registerSessions)
          .values({ terminalId: staff.terminalId, locationId: staff.locationId, openingFloat: input.openingFloat, expectedCash: input.openingFloat, openedAt: now, openedBy: staff.staffId })
          .onConflictDoNothing()
          .returning();
        if (!s) fail('INVALID_STATE', 'This till’s register is already open: close it first.', ['input']);
        await tx.insert(cashMovements).values({ sessionId: s.id, kind: 'OPENING_FLOAT', delta: input.openingFloat, actor: scope.actor, createdAt: now });
        return s.id;
      }),
    ),
  );
  return (await sessionById(db, id))!;
}

export async function recordCashMovement(db: Db, viewer: Viewer, input: { idempotencyKey: string; kind: string; amount: number; reason: string }, clock: Clock): Promise<RegisterSession> {
  const staff = tillStaff(viewer);
  const kind = MANUAL.find((k) => k === input.kind);
  if (!kind) fail('INVALID_INPUT', 'Record PAID_IN, PAID_OUT or DROP here; sales, refunds and change are recorded by the orders themselves.', ['input', 'kind']);
  amountOk(input.amount, ['input', 'amount']);
  if (input.amount === 0) fail('INVALID_INPUT', 'The amount is more than 0.', ['input', 'amount']);
  if (!input.reason.trim()) fail('INVALID_INPUT', 'Give a reason.', ['input', 'reason']);
  const scope = { actor: actorOf(viewer), key: input.idempotencyKey, operation: 'recordCashMovement', request: input };
  const id = await replayOr(db, scope, () =>
    inTransaction(db, (tx) =>
      once(tx, scope, async () => (await move(tx, staff.terminalId, [{ kind, delta: SIGN[kind] * input.amount }], { actor: scope.actor, reason: input.reason.trim(), now: clock(), field: ['input', 'amount'] })).id),
    ),
  );
  return (await sessionById(db, id))!;
}

/** Closes the till's session with the counted cash: the variance (counted − expected) is recorded. */
export async function closeRegister(db: Db, viewer: Viewer, input: { idempotencyKey: string; countedCash: number }, clock: Clock): Promise<RegisterSession> {
  const staff = tillStaff(viewer);
  amountOk(input.countedCash, ['input', 'countedCash']);
  const scope = { actor: actorOf(viewer), key: input.idempotencyKey, operation: 'closeRegister', request: input };
  const id = await replayOr(db, scope, () =>
    inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const [open] = await tx.select().from(registerSessions).where(and(eq(registerSessions.terminalId, staff.terminalId), eq(registerSessions.status, 'OPEN'))).for('update');
        if (!open) fail('REGISTER_CLOSED', 'This till’s register is not open.', ['input']);
        if (!isManager(viewer) && open.openedBy !== staff.staffId) fail('FORBIDDEN', 'A manager, or the associate who opened the register, closes it.', ['input']);
        const [s] = await tx
          .update(registerSessions)
          .set({ status: 'CLOSED', closedAt: clock(), closedBy: staff.staffId, countedCash: input.countedCash, variance: sql`${input.countedCash} - ${registerSessions.expectedCash}` })
          .where(eq(registerSessions.id, open.id))
          .returning();
        return s!.id;
      }),
    ),
  );
  return (await sessionById(db, id))!;
}
