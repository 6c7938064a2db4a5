import { Inject, Injectable } from '@nestjs/common';
import { sha256Hex } from '../../common/constant-time.js';
import { toDecimalString } from '../../common/decimal.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  EVERY_FACT,
  type InquiryAnswer,
  isRecord,
  type ProviderStatusApi,
  type RequiredFact,
  requestProvider,
  rfc3339Time,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import {
  NICEPAY_INQUIRY_CONFIGURATION_ERRORS,
  NICEPAY_INQUIRY_OK,
  NICEPAY_INQUIRY_PATH,
  NICEPAY_INQUIRY_RETRY_CODES,
  NICEPAY_PAY_METHOD,
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

/** A field NICEPAY filled: text that is neither empty nor the string "null". */
function stated(value: unknown): string | null {
  const text = textOf(value)?.trim() ?? '';
  return text.length > 0 && text.toLowerCase() !== 'null' ? text : null;
}

/** transDt/transTm-style Jakarta date (YYYYMMDD) and time (HH24MISS) → RFC 3339 UTC. */
export function nicepayAnswerTime(date: unknown, time: unknown): string | null {
  const d = stated(date);
  const t = stated(time);
  if (!d || !t || !/^\d{8}$/.test(d) || !/^\d{6}$/.test(t)) return null;
  return rfc3339Time(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4)}${NICEPAY_TIME_OFFSET}`,
  );
}

/**
 * An inquiry answer (HTTP 200 JSON) → what NICEPAY says about the transaction. Only a JSON object
 * with a `resultCd` is an answer: anything else is a transient fault (`unavailable`). Documented
 * configuration errors are `refused`, documented retry codes `unavailable`, and every other code
 * is NICEPAY not confirming the transaction (`unknown`). A `0000` that states no status says
 * nothing about the transaction: `unavailable`.
 */
export function parseNicepayInquiry(answer: unknown): InquiryAnswer {
  if (!isRecord(answer)) return { kind: 'unavailable', reason: 'NICEPAY answered no JSON object' };
  const resultCd = stated(answer.resultCd);
  const resultMsg = textOf(answer.resultMsg) ?? '';
  if (resultCd === null) {
    return { kind: 'unavailable', reason: 'NICEPAY answered without a resultCd' };
  }
  if (resultCd !== NICEPAY_INQUIRY_OK) {
    const said = `NICEPAY resultCd ${resultCd} ${resultMsg}`.trim();
    if (Object.hasOwn(NICEPAY_INQUIRY_CONFIGURATION_ERRORS, resultCd)) {
      return {
        kind: 'refused',
        reason: `${said} (${NICEPAY_INQUIRY_CONFIGURATION_ERRORS[resultCd]}: check NICEPAY_IMID / NICEPAY_MERCHANT_KEY)`,
      };
    }
    if (NICEPAY_INQUIRY_RETRY_CODES.has(resultCd)) return { kind: 'unavailable', reason: said };
    return { kind: 'unknown', reason: said, raw: answer };
  }
  const providerStatus = stated(answer.status);
  if (providerStatus === null) {
    return { kind: 'unavailable', reason: 'NICEPAY answered resultCd 0000 without a status' };
  }
  const payMethod = stated(answer.payMethod) ?? '';
  const { status, warning } = nicepayInquiryStatus(payMethod, providerStatus);
  const channel = [
    answer.bankCd,
    answer.mitraCd,
    answer.issuBankCd,
    answer.issueBankCd,
    answer.acquBankCd,
  ]
    .map(stated)
    .find((value) => value !== null);
  const fee = stated(answer.fee);
  return {
    kind: 'found',
    report: {
      status,
      providerStatus,
      providerTransactionId: stated(answer.tXid),
      merchantReference: stated(answer.referenceNo),
      amount: toDecimalString(stated(answer.amt)),
      currency: stated(answer.currency)?.toUpperCase() ?? null,
      refundedTotal: null,
      paymentMethod: NICEPAY_PAY_METHOD[payMethod] ?? null,
      channel: channel ? channel.toUpperCase() : null,
      fee: fee === null ? null : toDecimalString(fee),
      // As the callback mapper: the deposit time where there is one, else the transaction time.
      occurredAt:
        nicepayAnswerTime(answer.depositDt, answer.depositTm) ??
        nicepayAnswerTime(answer.transDt, answer.transTm),
      raw: answer,
      warnings: warning ? [warning] : [],
    },
  };
}

/** amt exactly as NICEPAY sent it in the callback (its token hashes the digits), else the amount. */
function inquiryAmt(query: StatusQuery): string | null {
  return textOf(query.raw.amt) ?? query.amount;
}

/** NICEPAY v2 Status Inquiry, signed with the iMid and current key of the callback's account. */
@Injectable()
export class NicepayStatusApi implements ProviderStatusApi {
  readonly provider = 'nicepay';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  readonly unprovenWithout =
    'status, referenceNo, currency and payMethod (the merchantToken covers only iMid, tXid and amt: a captured deposit can be replayed as a reversal of any order)';

  readonly requiredFacts: ReadonlyArray<RequiredFact> = EVERY_FACT;

  /** The inquiry asks by tXid, referenceNo and amt (as the callback sent it). */
  queryKey(query: StatusQuery): string {
    return JSON.stringify([
      query.providerTransactionId,
      query.merchantReference,
      inquiryAmt(query),
    ]);
  }

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
    const amt = inquiryAmt(query);
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
