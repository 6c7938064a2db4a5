import { createOrderService, DEFAULT_BINDING_KEY, optionsFromEnv } from './order-service.js';

// Example consumer of the payment callback gateway's events; see examples/order-service/README.md.
const options = optionsFromEnv();
const app = await createOrderService(options);
app.enableShutdownHooks();
await app.listen();
console.log(
  `order-service: ${options.exchange} (${DEFAULT_BINDING_KEY}) → queue ${options.queue}, listening`,
);
