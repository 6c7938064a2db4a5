/**
 * The names a top-up command is sent with, shared by the gateway and `simulate -- topup`. Free of
 * NestJS and the provider clients, so the developer command starts fast.
 */

/** Providers whose request API the gateway places top-up orders with. */
export const TOPUP_PROVIDERS = ['ppob', 'sidopulsa'] as const;

/** The CloudEvent type of a top-up command. */
export const TOPUP_REQUESTED = 'topup.requested';
