/**
 * The two examples of Sidopulsa's callback page as query fields, with the success example's
 * statuscode corrected to 1 (the page shows 2 there; its own table says 1 = sukses).
 */
export const SIDOPULSA_SUCCESS_SAMPLE: Record<string, string> = {
  serverid: '36203827',
  price: '9000',
  clientid: '99323877',
  statuscode: '1',
  kp: 'TT5',
  msisdn: '081299999999',
  sn: 'OPTR9039938DS',
  message:
    'TRX TT5.081299999999 BERHASIL, HRG:9000 SN: OPTR9039938DS. SISA SALDO:5550 CLIENTID=99323877.',
};

export const SIDOPULSA_FAILED_SAMPLE: Record<string, string> = {
  ...SIDOPULSA_SUCCESS_SAMPLE,
  statuscode: '2',
  sn: 'Trx gagal',
  message: 'TRX TT5.081299999999 GAGAL, Trx gagal. SISA SALDO:5550 CLIENTID=99323877.',
};
