import { registerJob } from '../schedulers';
import { deleteIdleAnonymousCarts, expireCartHolds } from './service';

// Cart holds end by themselves, and idle anonymous carts go away; each cart in its own transaction.
registerJob({ name: 'cart-hold-expiry', run: async (db, now) => (await expireCartHolds(db, now, 'scheduler:cart-hold-expiry')).length });
registerJob({ name: 'anonymous-cart-cleanup', run: (db, now) => deleteIdleAnonymousCarts(db, now, 'scheduler:cart-cleanup') });
