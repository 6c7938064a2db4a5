/**
 * A real-shaped NICEPAY virtual-account deposit notification (fields as NICEPAY sends them).
 * Its merchantToken is valid for the demo credentials below, which `.env.example` configures,
 * so Swagger UI's "Try it out" produces a genuine accepted callback on a local gateway.
 */
export const NICEPAY_VA_DEPOSIT_SAMPLE: Record<string, string> = {
  tXid: 'IONPAYTEST02202511211200001234',
  referenceNo: 'ORD-20251121-0001',
  payMethod: '02',
  amt: '150000',
  currency: 'IDR',
  transDt: '20251121',
  transTm: '120000',
  depositDt: '20251121',
  depositTm: '120512',
  bankCd: 'BMRI',
  vacctNo: '8985001234567890',
  vacctValidDt: '20251122',
  vacctValidTm: '120000',
  goodsNm: 'Order ORD-20251121-0001',
  billingNm: 'Budi Santoso',
  matchCl: '1',
  status: '0',
  merchantToken: '1e2195c60f56ad1a3a8235c8afc938f8384eb66713d10d9e30e37c5abff8a2c8',
};

/** Demo credentials for local use (the iMid format of NICEPAY's sandbox). Never production values. */
export const NICEPAY_SANDBOX = {
  iMid: 'IONPAYTEST',
  merchantKey:
    '33F49GnCMS1mFYlGXisbUDzVf2ATWCl9k3R++d5hDd3Frmuos/XLx8XhXpe+LDYAbpGKZYSwtlyyLOtS/8aD7A==',
};
