/**
 * A real-shaped PPOB server report: ref_id, code and destination from the server's own request
 * example (seed 003 §1.1); the serial number is illustrative.
 */
export const PPOB_SUCCESS_SAMPLE: Record<string, string> = {
  ref_id: '10327',
  status: 'Success',
  sn: '0512345678901234',
  code: 'S10',
  destination: '08123214214',
};
