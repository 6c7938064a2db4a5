/**
 * Demo credentials from S88Pay's own documentation (its test vector uses them). Never production
 * values; configure them as S88PAY_API_KEY / S88PAY_SECRET_KEY to try the sample below.
 */
export const S88PAY_DEMO = { apiKey: 'myapikey', secretKey: 'mysecretkey' };

/** What S88PAY_DEPOSIT_SAMPLE.key decrypts to (JSON, as the current S88Pay docs show). */
export const S88PAY_DEPOSIT_PLAINTEXT =
  '{"transaction_no":"DP-20251121-000123","transaction_code":"ORD-20251121-0001","transaction_status":2,' +
  '"transaction_amount":"150000.00","transaction_fee":"1500.00","currency_code":"IDR","transaction_ref":"",' +
  '"merchant_code":"SKU20230101012023","merchant_api_key":"myapikey","payment_code":"PAY01D",' +
  '"transaction_timestamp":1763701512}';

/**
 * A real-shaped completed-deposit callback. `key` is S88PAY_DEPOSIT_PLAINTEXT encrypted once
 * (encryptS88payKey) for api_key `myapikey` / secret_key `mysecretkey`, so Swagger UI's
 * "Try it out" produces a genuine accepted callback on a gateway configured with them.
 */
export const S88PAY_DEPOSIT_SAMPLE = {
  key:
    '%2FriLf9ogL9WwWcmEugzDdruE3mALomFwgmcR99Q%2BnVVFt2pTYlSWDUt%2F0YvXaaXr4l4%2F5lcHoCGdIvMp4q6H7Wgw' +
    'ktOnlYTMk8U8R%2F2J6%2BH1sD4Ni5FhXNba2XtnwIPv4tfxOxiSDze9k%2BsaV1DM4GksNUL7Vk%2F0Hh8hpXvBtbE72hlX' +
    '%2B47m%2FOU76pY2zYj5swnQ9J4j2sp0m7cWnNgo%2FhZHz52WN63fxLTo97p0WoiNRN8G1IWCJ0kda5Pc3yDSGAS%2FnKUth' +
    'J5uysbHpfJ1pj0V6m4NJ%2B%2BrfrrRPQg7b0fTn3ulrERUBVsObnzhYzFDWRjd8D2kS1TjYb8kndpT4NSssvPS05K5OpQ9p0z' +
    'mFMuxHxTFnz8E6Ioor%2FMk73r22smAILILAdJyD8InbxUynXBKrxPLhOiR9SGVb5KXKUre%2FTCWuZyk6MjwnPLoCw%2Fw',
  transaction_code: 'ORD-20251121-0001',
  transaction_no: 'DP-20251121-000123',
};
