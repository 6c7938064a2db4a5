import { createTopupService, requestTopup } from './topup-service.js';

// Example fulfilment service: orders one top-up and prints its outcomes; see ../README.md.
const options = {
  amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  exchange: process.env.EVENTS_EXCHANGE || 'payments.events',
  commandsQueue: process.env.TOPUP_COMMANDS_QUEUE || 'payments.topup.requests',
  queue: process.env.TOPUP_SERVICE_QUEUE || 'topup-service.outcomes',
};
const app = await createTopupService(options);
app.enableShutdownHooks();
await app.listen();
const reference = `EX-${Date.now()}`;
await requestTopup(options, {
  provider: (process.env.TOPUP_PROVIDER as 'ppob' | 'sidopulsa') || 'ppob',
  reference,
  product: process.env.TOPUP_PRODUCT || 'S10',
  destination: process.env.TOPUP_DESTINATION || '08123214214',
});
console.log(`topup-service: ordered ${reference}; waiting for its events on ${options.queue}`);
