import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual, sha256Hex } from '../../common/constant-time.js';
import { sendJson, jsonObjectOf } from '../../sandbox/sandbox-http.js';
import {
  type SandboxCallback,
  SandboxInputError,
  SandboxLedger,
} from '../../sandbox/sandbox-ledger.js';
import { currentKey } from '../../config/accounts.js';
import type { SandboxContext } from '../../sandbox/sandbox-provider.js';
import {
  NICEPAY_INQUIRY_CONFIGURATION_ERRORS,
  NICEPAY_INQUIRY_NOT_FOUND,
  NICEPAY_INQUIRY_OK,
  NICEPAY_INQUIRY_PATH,
  NICEPAY_INQUIRY_STATUS,
} from './nicepay.facts.js';
import { nicepayMerchantToken } from './nicepay.signature.js';
import { type NicepaySettings, simulateNicepayCallback } from './nicepay.simulator.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import type { SandboxProviderFactory } from '../../sandbox/sandbox-server.js';

/** A held NICEPAY transaction: its notification fields and its inquiry status code. */
export interface NicepaySandboxTransaction {
  iMid: string;
  /** The notification fields (without merchantToken). */
  fields: Record<string, string>;
  /** Inquiry `status` in the table of `fields.payMethod`. */
  status: string;
}

/** Only deposits (0) and reversals (1) are notified; the other states are seen by inquiry. */
const NOTIFIED = new Set(['0', '1']);

/** Inquiry `resultMsg` words, per code of the virtual-account table the simulator builds. */
const STATUS_WORD: Record<string, string> = {
  '0': 'paid',
  '1': 'reversal',
  '3': 'unpaid',
  '4': 'expired',
};

/**
 * NICEPAY as the gateway meets it: dbProcessUrl notifications (virtual-account deposits and
 * reversals, signed with the iMid's merchantKey) and the v2 Status Inquiry, which checks iMid,
 * merchantToken and the transaction like NICEPAY does and answers its own result codes.
 */
export class NicepaySandbox extends SandboxLedger<NicepaySandboxTransaction> {
  readonly name = 'nicepay';

  constructor(
    context: SandboxContext,
    private readonly settings: NicepaySettings,
  ) {
    super(context);
  }

  /** The inquiry code of `status` for the payMethod: a code of its table, or a normalized status. */
  private codeFor(payMethod: string, status: string): string {
    const table = NICEPAY_INQUIRY_STATUS[payMethod] ?? {};
    if (Object.hasOwn(table, status)) return status;
    const wanted = status.trim().toLowerCase();
    const code = Object.keys(table).find((c) => table[c] === wanted);
    if (code === undefined) {
      throw new SandboxInputError(
        `NICEPAY payMethod ${payMethod} has no status ${JSON.stringify(status)}: expected one of ${Object.entries(
          table,
        )
          .map(([c, s]) => `${c} (${s})`)
          .join(', ')}`,
      );
    }
    return code;
  }

  protected build(status: string, reference?: string) {
    const request = simulateNicepayCallback(this.settings, 'succeeded', reference);
    const { key, transaction } = this.fromCallback({
      method: 'POST',
      path: request.path,
      headers: request.headers,
      body: request.body,
    });
    return { key, transaction: this.withStatus(transaction, status) };
  }

  protected withStatus(transaction: NicepaySandboxTransaction, status: string) {
    return { ...transaction, status: this.codeFor(transaction.fields.payMethod, status) };
  }

  protected statusOf(transaction: NicepaySandboxTransaction): string {
    return transaction.status;
  }

  protected callbackOf(transaction: NicepaySandboxTransaction): SandboxCallback | null {
    if (!NOTIFIED.has(transaction.status)) return null;
    const merchant = this.merchant(transaction.iMid)!;
    const fields: Record<string, string> = { ...transaction.fields, status: transaction.status };
    fields.merchantToken = nicepayMerchantToken(
      merchant.iMid,
      fields.tXid,
      fields.amt,
      merchant.merchantKey,
    );
    return {
      method: 'POST',
      path: '/callbacks/nicepay',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Jakarta Commons-HttpClient/3.1',
      },
      body: new URLSearchParams(fields).toString(),
    };
  }

  protected fromCallback(callback: SandboxCallback) {
    const fields = Object.fromEntries(new URLSearchParams(callback.body ?? ''));
    const { tXid, amt, merchantToken } = fields;
    if (!tXid || !amt || !fields.referenceNo || !merchantToken) {
      throw new SandboxInputError(
        'a NICEPAY notification needs tXid, referenceNo, amt and merchantToken',
      );
    }
    const merchant = this.merchants().find((m) =>
      constantTimeEqual(
        merchantToken.toLowerCase(),
        nicepayMerchantToken(m.iMid, tXid, amt, m.merchantKey),
      ),
    );
    if (!merchant) throw new SandboxInputError('merchantToken matches no configured iMid');
    delete fields.merchantToken;
    const status = fields.status === '1' ? '1' : '0';
    return { key: tXid, transaction: { iMid: merchant.iMid, fields, status } };
  }

  /** Every account's iMid with its key valid now (what NICEPAY would sign and check with). */
  private merchants(): Array<{ iMid: string; merchantKey: string }> {
    return this.settings.accounts.flatMap((account) => {
      const key = currentKey(account);
      return key ? [{ iMid: account.iMid, merchantKey: key.merchantKey }] : [];
    });
  }

  private merchant(iMid: string) {
    return this.merchants().find((m) => m.iMid === iMid);
  }

  protected ownsPath(path: string): boolean {
    return path === NICEPAY_INQUIRY_PATH;
  }

  protected handleApi(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    const fail = (resultCd: string, resultMsg: string) =>
      sendJson(res, 200, { resultCd, resultMsg });
    if (req.method !== 'POST') {
      sendJson(res, 405, { resultCd: '9999', resultMsg: 'POST only' });
      return true;
    }
    const request = jsonObjectOf(body);
    if (!request) {
      fail('9999', 'Invalid JSON request');
      return true;
    }
    const field = (name: string) =>
      typeof request[name] === 'string' ? (request[name] as string) : '';
    for (const name of ['timeStamp', 'tXid', 'iMid', 'referenceNo', 'amt', 'merchantToken']) {
      if (!field(name)) {
        fail('9999', `${name} is mandatory`);
        return true;
      }
    }
    if (!/^\d{14}$/.test(field('timeStamp'))) {
      fail('9999', 'timeStamp must be YYYYMMDDHH24MISS');
      return true;
    }
    const merchant = this.merchant(field('iMid'));
    if (!merchant) {
      fail('9011', `Invalid iMid (${NICEPAY_INQUIRY_CONFIGURATION_ERRORS['9011']})`);
      return true;
    }
    // NICEPAY's "Check Status" page: SHA256(timeStamp + iMid + referenceNo + amt + merchantKey),
    // every part as it stands (the key is opaque: never decoded), lowercase hex.
    const expected = sha256Hex(
      field('timeStamp') +
        merchant.iMid +
        field('referenceNo') +
        field('amt') +
        merchant.merchantKey,
    );
    if (!constantTimeEqual(field('merchantToken').toLowerCase(), expected)) {
      fail('9010', `Invalid Merchant Token (${NICEPAY_INQUIRY_CONFIGURATION_ERRORS['9010']})`);
      return true;
    }
    const candidate = this.get(field('tXid'));
    const { fields } = candidate?.transaction ?? { fields: {} as Record<string, string> };
    if (
      !candidate ||
      candidate.transaction.iMid !== merchant.iMid ||
      fields.referenceNo !== field('referenceNo') ||
      fields.amt !== field('amt')
    ) {
      fail(NICEPAY_INQUIRY_NOT_FOUND.resultCd, NICEPAY_INQUIRY_NOT_FOUND.resultMsg);
      return true;
    }
    const entry = this.inquired(field('tXid'))!;
    const status = entry.transaction.status;
    const paid = status === '0' || status === '1';
    sendJson(res, 200, {
      resultCd: NICEPAY_INQUIRY_OK,
      resultMsg: STATUS_WORD[status] ?? 'status',
      tXid: fields.tXid,
      iMid: merchant.iMid,
      currency: fields.currency ?? 'IDR',
      amt: fields.amt,
      instmntMon: null,
      instmntType: null,
      referenceNo: fields.referenceNo,
      goodsNm: fields.goodsNm ?? null,
      payMethod: fields.payMethod,
      billingNm: fields.billingNm ?? null,
      reqDt: fields.transDt ?? null,
      reqTm: fields.transTm ?? null,
      status,
      cancelAmt: status === '1' ? fields.amt : null,
      transDt: fields.transDt ?? null,
      transTm: fields.transTm ?? null,
      depositDt: paid ? (fields.depositDt ?? null) : null,
      depositTm: paid ? (fields.depositTm ?? null) : null,
      bankCd: fields.bankCd ?? null,
      vacctNo: fields.vacctNo ?? null,
      vacctValidDt: fields.vacctValidDt ?? null,
      vacctValidTm: fields.vacctValidTm ?? null,
      mitraCd: fields.mitraCd ?? null,
      payNo: null,
      receiptCode: null,
      mRefNo: null,
    });
    return true;
  }
}

/** Played when the gateway has NICEPAY accounts. */
export const nicepaySandboxFor = ({
  providers: { nicepay },
}: GatewayConfig): SandboxProviderFactory | null =>
  nicepay ? (context) => new NicepaySandbox(context, nicepay) : null;
