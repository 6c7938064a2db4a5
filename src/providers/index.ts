import { McpaymentModule } from './mcpayment/mcpayment.module.js';
import { NicepayModule } from './nicepay/nicepay.module.js';
import { PpobModule } from './ppob/ppob.module.js';
import { S88payModule } from './s88pay/s88pay.module.js';
import { SidopulsaModule } from './sidopulsa/sidopulsa.module.js';
import { SnapModule } from './snap/snap.module.js';

/** Every provider module. Adding a provider: write src/providers/<name>/ and list its module here. */
export const PROVIDER_MODULES = [
  NicepayModule,
  McpaymentModule,
  SidopulsaModule,
  PpobModule,
  S88payModule,
  SnapModule,
];
