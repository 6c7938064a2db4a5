/**
 * Provider credentials the test gateways run with. Tests sign and encrypt their samples with
 * these, using their own implementation of each provider's algorithm.
 */
export const NICEPAY = {
  merchants: [
    { iMid: 'IONPAYTEST', merchantKey: 'test-merchant-key-ionpay-0001' },
    { iMid: 'BMRIVATEST', merchantKey: 'test-merchant-key-bmri-0002' },
  ],
};

export const S88PAY = { apiKey: 'myapikey', secretKey: 'mysecretkey' };
export const MCPAYMENT = { hashKey: 'HASHKEY123' };
export const SIDOPULSA = { token: 'sidopulsa-test-token-0123456789' };
export const PPOB = { token: 'ppob-test-token-0123456789abcdef' };

/** Loopback is the test client's address. */
export const LOOPBACK = '127.0.0.1,::1';

/**
 * Verification is off here (NICEPAY_VERIFY / MCPAYMENT_VERIFY=off; S88Pay has no merchant code):
 * these tests are about the callbacks themselves. Tests of verification add inquiryEnv (sandbox.ts).
 */
export const PROVIDER_ENV: Record<string, string> = {
  NICEPAY_VERIFY: 'off',
  MCPAYMENT_VERIFY: 'off',
  NICEPAY_IMID: NICEPAY.merchants.map((m) => m.iMid).join(','),
  NICEPAY_MERCHANT_KEY: NICEPAY.merchants.map((m) => m.merchantKey).join(','),
  NICEPAY_ALLOWED_IPS: LOOPBACK,
  S88PAY_API_KEY: S88PAY.apiKey,
  S88PAY_SECRET_KEY: S88PAY.secretKey,
  MCPAYMENT_HASH_KEY: MCPAYMENT.hashKey,
  SIDOPULSA_CALLBACK_TOKEN: SIDOPULSA.token,
  SIDOPULSA_ALLOWED_IPS: LOOPBACK,
  PPOB_CALLBACK_TOKEN: PPOB.token,
  PPOB_ALLOWED_IPS: LOOPBACK,
};

/** Status API credentials the test sandbox checks and the gateway signs its inquiries with. */
export const MCPAYMENT_API = {
  merchantId: 'MCP-TEST-0001',
  secretUnboundId: 'test-secret-unbound-id-0001',
};
export const S88PAY_API = { merchantCode: 'SKU20230101012023' };

/** Inquiry credentials (the API URLs are the sandbox's, added by test/support/sandbox.ts). */
export const INQUIRY_CREDENTIALS_ENV: Record<string, string> = {
  MCPAYMENT_MERCHANT_ID: MCPAYMENT_API.merchantId,
  MCPAYMENT_SECRET_UNBOUND_ID: MCPAYMENT_API.secretUnboundId,
  S88PAY_MERCHANT_CODE: S88PAY_API.merchantCode,
};
