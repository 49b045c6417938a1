import { registerJob } from '../schedulers';
import { expireLoyaltyPoints, warnExpiringPoints } from './service';

// Points expiry runs inside the server every SCHEDULER_INTERVAL_MS; running it often is harmless, since
// an account whose points already expired has nothing left to expire.
registerJob({
  name: 'loyalty-expiry',
  run: async (db, now) => (await expireLoyaltyPoints(db, now, 'scheduler:loyalty-expiry')).length,
});

// POINTS_EXPIRING goes out LOYALTY_EXPIRY_WARNING_DAYS before the expiry (once per period of inactivity).
registerJob({ name: 'loyalty-expiry-warning', run: (db, now) => warnExpiringPoints(db, now) });
