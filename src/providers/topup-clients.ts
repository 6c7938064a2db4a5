import { PpobOrderClient } from './ppob/ppob.orders.js';
import { SidopulsaOrderClient } from './sidopulsa/sidopulsa.orders.js';

/**
 * The order clients of the top-up providers (TOPUP_PROVIDERS in src/topups/topup-names.ts), one in
 * src/providers/<name>/<name>.orders.ts each; the order worker never names one.
 */
export const TOPUP_ORDER_CLIENTS = [PpobOrderClient, SidopulsaOrderClient];
