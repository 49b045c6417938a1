// The shared PostgreSQL schema, one file per domain. drizzle-kit generates drizzle/ from this.
export * from './columns';
export * from './locations';
export * from './catalog';
export * from './inventory';
export * from './idempotency';
export * from './customers';
export * from './access';
export * from './loyalty';
export * from './orders';
export * from './returns';
export * from './carts';
export * from './promotions';
export * from './till';
export * from './limits';
export * from './events';
export * from './audit';
