import { Inject, Injectable } from '@nestjs/common';
import { sha256Hex } from '../../common/constant-time.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  type InquiryAnswer,
  isRecord,
  type ProviderStatusApi,
  requestProvider,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import {
  NICEPAY_INQUIRY_CONFIGURATION_ERRORS,
  NICEPAY_INQUIRY_OK,
  NICEPAY_INQUIRY_PATH,
  NICEPAY_INQUIRY_RETRY_CODES,
  NICEPAY_TIME_OFFSET,
  nicepayInquiryStatus,
} from './nicepay.facts.js';

/** Inquiry merchantToken = lowercase hex SHA-256(timeStamp + iMid + referenceNo + amt + merchantKey). */
export function nicepayInquiryToken(
  timeStamp: string,
  iMid: string,
  referenceNo: string,
  amt: string,
  merchantKey: string,
): string {
  return sha256Hex(timeStamp + iMid + referenceNo + amt + merchantKey);
}

/** YYYYMMDDHH24MISS in Asia/Jakarta (UTC+7, no daylight saving). */
export function nicepayTimeStamp(date = new Date()): string {
  const hours = Number(NICEPAY_TIME_OFFSET.slice(0, 3));
  return new Date(date.getTime() + hours * 3_600_000)
    .toISOString()
    .slice(0, 19)
    .replace(/[-T:]/g, '');
}

export interface NicepayInquiryRequest {
  timeStamp: string;
  tXid: string;
  iMid: string;
  referenceNo: string;
  amt: string;
  merchantToken: string;
}

/** The JSON body of a Status Inquiry for one transaction, signed with the iMid's key. */
export function nicepayInquiryRequest(
  iMid: string,
  merchantKey: string,
  transaction: { tXid: string; referenceNo: string; amt: string },
  now = new Date(),
): NicepayInquiryRequest {
  const timeStamp = nicepayTimeStamp(now);
  return {
    timeStamp,
    tXid: transaction.tXid,
    iMid,
    referenceNo: transaction.referenceNo,
    amt: transaction.amt,
    merchantToken: nicepayInquiryToken(
      timeStamp,
      iMid,
      transaction.referenceNo,
      transaction.amt,
      merchantKey,
    ),
  };
}

/** An inquiry answer (HTTP 200 JSON) → what NICEPAY says about the transaction. */
export function parseNicepayInquiry(answer: unknown): InquiryAnswer {
  if (!isRecord(answer)) return { kind: 'unavailable', reason: 'NICEPAY answered no JSON object' };
  const resultCd = textOf(answer.resultCd) ?? '';
  const resultMsg = textOf(answer.resultMsg) ?? '';
  if (resultCd !== NICEPAY_INQUIRY_OK) {
    const said = `NICEPAY resultCd ${resultCd || '(none)'} ${resultMsg}`.trim();
    if (Object.hasOwn(NICEPAY_INQUIRY_CONFIGURATION_ERRORS, resultCd)) {
      return {
        kind: 'refused',
        reason: `${said} (${NICEPAY_INQUIRY_CONFIGURATION_ERRORS[resultCd]}: check NICEPAY_IMID / NICEPAY_MERCHANT_KEY)`,
      };
    }
    if (NICEPAY_INQUIRY_RETRY_CODES.has(resultCd)) return { kind: 'unavailable', reason: said };
    return { kind: 'unknown', reason: said, raw: answer };
  }
  const payMethod = textOf(answer.payMethod) ?? '';
  const providerStatus = textOf(answer.status) ?? '';
  const { status, warning } = nicepayInquiryStatus(payMethod, providerStatus);
  return {
    kind: 'found',
    report: {
      status,
      providerStatus,
      providerTransactionId: textOf(answer.tXid),
      merchantReference: textOf(answer.referenceNo),
      amount: textOf(answer.amt),
      currency: textOf(answer.currency)?.toUpperCase() ?? null,
      raw: answer,
      warnings: warning ? [warning] : [],
    },
  };
}

/** NICEPAY v2 Status Inquiry, signed with the iMid and current key of the callback's account. */
@Injectable()
export class NicepayStatusApi implements ProviderStatusApi {
  readonly provider = 'nicepay';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  readonly unprovenWithout =
    'status, referenceNo, currency and payMethod (the merchantToken covers only iMid, tXid and amt: a captured deposit can be replayed as a reversal of any order)';

  isConfigured(): boolean {
    return this.config.providers.nicepay !== null;
  }

  isEnabled(): boolean {
    return Boolean(this.config.providers.nicepay?.inquiry);
  }

  async inquire(query: StatusQuery): Promise<InquiryAnswer> {
    if (!this.config.providers.nicepay?.inquiry)
      return { kind: 'refused', reason: 'NICEPAY inquiry is off' };
    const merchant = this.config.accounts.statusApiCredentials('nicepay', query.account);
    if (merchant?.provider !== 'nicepay') {
      return {
        kind: 'refused',
        reason: `NICEPAY account ${query.account} is not configured or has no key valid now`,
      };
    }
    const tXid = query.providerTransactionId;
    // amt exactly as NICEPAY sent it: the token hashes its digits.
    const amt = textOf(query.raw.amt) ?? query.amount;
    if (!tXid || !amt) return { kind: 'unknown', reason: 'the callback carries no tXid / amt' };
    const body = nicepayInquiryRequest(merchant.iMid, merchant.merchantKey, {
      tXid,
      referenceNo: query.merchantReference,
      amt,
    });
    const answer = await requestProvider(`${merchant.apiUrl}${NICEPAY_INQUIRY_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    if ('kind' in answer) return answer;
    if (answer.status !== 200) {
      return { kind: 'unavailable', reason: `NICEPAY inquiry answered HTTP ${answer.status}` };
    }
    return parseNicepayInquiry(answer.json);
  }
}
