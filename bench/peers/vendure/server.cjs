// Vendure's server process (as the starter's src/index.ts, without migrations: the populate step made the schema).
const { bootstrap } = require('@vendure/core');
const { config } = require('./config.cjs');

bootstrap(config).catch((err) => {
  console.error(err);
  process.exit(1);
});
