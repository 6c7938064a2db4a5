/**
 * A real-shaped MCPayment PG3 PAID callback for a BRI virtual account (fields as MCPayment's
 * "Notification Callback VA PG3" page lists them, with plausible values instead of placeholders).
 * Its ids are those of the PROVIDERS.md vector, so MCPAYMENT_SAMPLE_SIGNATURE below is valid for
 * the demo hash key and Swagger UI's "Try it out" produces a genuine accepted callback locally.
 */
export const MCPAYMENT_PAID_SAMPLE = {
  transaction_id: '8393c208-8b83-49eb-8c0b-0b50016e7401',
  external_id: '18457738645627',
  order_id: 'Test-01',
  reference_id: '202511211205120001',
  currency: 'IDR',
  payment_method: 'BANK_TRANSFER',
  payment_channel: 'BRI',
  payment_system: 'CLOSED',
  transaction_status: 'PAID',
  transaction_time: '2025-11-21T12:00:20.592+07:00',
  payment_details: {
    payment_system: 'CLOSED',
    billing_name: 'Budi Santoso',
    va_number: '8888801234567890',
    amount: 150000,
    total_fee_amount: 4000,
    total_promo_amount: 0,
    total_amount: 154000,
    total_paid_amount: 154000,
    is_multi_use: false,
    is_customer_paying_fee: true,
    expired_time: '2025-11-21T12:15:20.163+07:00',
    transaction_description: 'Order Test-01',
    paid_time: '2025-11-21T12:05:12.136+07:00',
  },
  customer_details: {
    phone: '081234567890',
    email: 'budi.santoso@example.com',
    full_name: 'Budi Santoso',
  },
  item_details: [
    {
      item_id: 'SKU-001',
      name: 'Kopi Arabika 250g',
      amount: 75000,
      qty: 2,
      description: 'Whole beans',
    },
  ],
  billing_address: {
    phone: '081234567890',
    address: 'Jl. Merdeka No. 1',
    city: 'Jakarta',
    postal_code: '10110',
    country: 'ID',
    full_name: 'Budi Santoso',
  },
  shipping_address: {
    phone: '081234567890',
    address: 'Jl. Merdeka No. 1',
    city: 'Jakarta',
    postal_code: '10110',
    country: 'ID',
    full_name: 'Budi Santoso',
  },
  response_code: '00',
  issuer: 'BRI ',
  additional_data: '',
  payment_history: [
    {
      paid_amount: 154000,
      paid_time: '2025-11-21T12:05:12.136+07:00',
      reference_id: '202511211205120001',
    },
  ],
  transaction_type: 'on_us',
};

/** Demo hash key for local use (the one PROVIDERS.md's vector uses). Never a production value. */
export const MCPAYMENT_DEMO_HASH_KEY = 'HASHKEY123';

/** mcp-signature of MCPAYMENT_PAID_SAMPLE for MCPAYMENT_DEMO_HASH_KEY, no sub-merchant id. */
export const MCPAYMENT_SAMPLE_SIGNATURE =
  '56abef0edf89ccf64816a17f366241cd291a897489657a0738d736f01863c76e';
