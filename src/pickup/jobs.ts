import { registerJob } from '../schedulers';
import { expirePickups } from './service';

// Uncollected pickups expire inside the server every SCHEDULER_INTERVAL_MS; each expiry is its own guarded
// transaction, so a run racing a hand-over or another run changes nothing twice.
registerJob({
  name: 'pickup-expiry',
  run: async (db, now) => (await expirePickups(db, now, 'scheduler:pickup-expiry')).length,
});
