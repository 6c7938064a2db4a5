import { PpobOrderClient } from './ppob/ppob.orders.js';
import { SidopulsaOrderClient } from './sidopulsa/sidopulsa.orders.js';

/** Providers whose request API the gateway places top-up orders with. */
export const TOPUP_PROVIDERS = ['ppob', 'sidopulsa'] as const;

/** Their clients (src/providers/<name>/<name>.orders.ts); the order worker never names one. */
export const TOPUP_ORDER_CLIENTS = [PpobOrderClient, SidopulsaOrderClient];
