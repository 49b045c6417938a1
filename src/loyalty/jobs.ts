import { registerJob } from '../schedulers';
import { expireLoyaltyPoints } from './service';

// Points expiry runs inside the server every SCHEDULER_INTERVAL_MS; running it often is harmless, since
// an account whose points already expired has nothing left to expire.
registerJob({
  name: 'loyalty-expiry',
  run: async (db, now) => (await expireLoyaltyPoints(db, now, 'scheduler:loyalty-expiry')).length,
});
