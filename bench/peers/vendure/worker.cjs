// Vendure's worker process (as the starter's src/index-worker.ts): runs the job queue (search index updates).
const { bootstrapWorker } = require('@vendure/core');
const { config } = require('./config.cjs');

bootstrapWorker(config)
  .then((worker) => worker.startJobQueue())
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
