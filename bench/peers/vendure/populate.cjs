// Creates Vendure's schema (TypeORM synchronize) and loads the initial data and the products CSV with
// `populate` from '@vendure/core/cli', as the starter's first run does. Arguments: initial-data.json products.csv
const { bootstrap } = require('@vendure/core');
const { populate } = require('@vendure/core/cli');
const { config } = require('./config.cjs');

const [initialDataPath, productsCsvPath] = process.argv.slice(2);
if (!initialDataPath || !productsCsvPath) throw new Error('usage: node populate.cjs initial-data.json products.csv');

populate(
  () => bootstrap({ ...config, dbConnectionOptions: { ...config.dbConnectionOptions, synchronize: true } }),
  require(initialDataPath),
  productsCsvPath,
)
  .then((app) => app.close())
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
