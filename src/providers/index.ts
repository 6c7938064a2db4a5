import { NicepayModule } from './nicepay/nicepay.module.js';

/** Every provider module. Adding a provider: write src/providers/<name>/ and list its module here. */
export const PROVIDER_MODULES = [NicepayModule];
