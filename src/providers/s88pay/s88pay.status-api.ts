import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  type InquiryAnswer,
  isRecord,
  type ProviderStatusApi,
  type RequiredFact,
  requestProvider,
  rfc3339Time,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import { encryptS88payKey, type S88payCredentials } from './s88pay.crypto.js';
import { s88payAmount } from './s88pay.dto.js';
import {
  S88PAY_API_CREDENTIAL_REFUSALS,
  S88PAY_API_STATUS,
  S88PAY_STATUS,
  s88payStatusPath,
} from './s88pay.facts.js';

/** The plaintext of a status request's `key`: the api_key exactly as issued, the code encoded. */
export function s88payStatusPlaintext(apiKey: string, transactionCode: string): string {
  return `merchant_api_key=${apiKey}&transaction_code=${encodeURIComponent(transactionCode)}`;
}

/** The form body `key=<percent-encoded base64 AES-256-CBC>` (encryptS88payKey percent-encodes). */
export function s88payStatusRequestBody(
  credentials: S88payCredentials,
  transactionCode: string,
): string {
  return `key=${encryptS88payKey(s88payStatusPlaintext(credentials.apiKey, transactionCode), credentials)}`;
}

/** S88Pay sends nulls as the string "null". */
function present(value: unknown): unknown {
  return value === null || value === undefined || value === '' || value === 'null' ? null : value;
}

const CONFIGURATION = '(check S88PAY_MERCHANT_CODE / S88PAY_API_KEY / S88PAY_SECRET_KEY)';

/**
 * An answer `{ success, message, data: [ … ] }` → S88Pay's account of the transaction.
 *
 * Only HTTP 200 with a JSON object whose `success` is a boolean is an answer; anything else
 * (non-JSON, no `success`, other statuses) is transient (`unavailable`), except 401 / 403 and the
 * documented credential refusal (`success: false` with `code` 115, HTTP 200), which are `refused`.
 * `unknown` is only a well-formed answer without the transaction: `success: true` whose `data`
 * list does not hold it, or `success: false` with a `data` list (S88Pay's "not found").
 */
export function parseS88payStatus(
  status: number,
  answer: unknown,
  transactionCode: string,
): InquiryAnswer {
  const message = isRecord(answer) ? (textOf(answer.message) ?? '') : '';
  const code = isRecord(answer) ? textOf(answer.code) : null;
  const said = [code === null ? '' : `code ${code}`, message].filter((v) => v).join(' ');
  if (status === 401 || status === 403) {
    return {
      kind: 'refused',
      reason: `S88Pay status API answered HTTP ${status} ${said} ${CONFIGURATION}`.replace(
        / +/g,
        ' ',
      ),
    };
  }
  if (status !== 200) {
    return {
      kind: 'unavailable',
      reason: `S88Pay status API answered HTTP ${status}${said ? ` (${said})` : ''}`,
    };
  }
  if (!isRecord(answer)) {
    return { kind: 'unavailable', reason: 'S88Pay status API answered without a JSON object' };
  }
  if (typeof answer.success !== 'boolean') {
    return {
      kind: 'unavailable',
      reason: `S88Pay status API answered without "success"${said ? ` (${said})` : ''}`,
    };
  }
  if (code !== null && Object.hasOwn(S88PAY_API_CREDENTIAL_REFUSALS, code)) {
    return {
      kind: 'refused',
      reason: `S88Pay status API refused our credentials: ${said} (${S88PAY_API_CREDENTIAL_REFUSALS[code]}) ${CONFIGURATION}`,
    };
  }
  if (!Array.isArray(answer.data)) {
    return {
      kind: 'unavailable',
      reason: `S88Pay status API answered success ${answer.success} without a data list${said ? ` (${said})` : ''}`,
    };
  }
  const entry = answer.data
    .filter(isRecord)
    .find((d) => textOf(d.transaction_code) === transactionCode);
  if (answer.success !== true || !entry) {
    return {
      kind: 'unknown',
      reason: `S88Pay does not report transaction ${transactionCode}${said ? ` (${said})` : ''}`,
      raw: answer,
    };
  }
  const providerStatus = textOf(present(entry.status))?.trim() ?? '';
  if (providerStatus === '') {
    return {
      kind: 'unavailable',
      reason: `S88Pay reported transaction ${transactionCode} without a status`,
    };
  }
  const key = providerStatus.toLowerCase();
  const normalized = S88PAY_API_STATUS[key] ?? S88PAY_STATUS[key];
  const amount = present(entry.amount);
  const fee = present(entry.transaction_fee);
  const currency = present(entry.currency_code);
  return {
    kind: 'found',
    report: {
      status: normalized ?? 'pending',
      providerStatus,
      providerTransactionId: textOf(present(entry.transaction_no)),
      merchantReference: textOf(entry.transaction_code),
      amount: amount === null ? null : s88payAmount(amount),
      currency: typeof currency === 'string' ? currency.toUpperCase() : null,
      refundedTotal: null,
      // method_name ("UPI 3") is a display name, not a method code: the callback mapper has no
      // method vocabulary for S88Pay either.
      paymentMethod: null,
      // The callback's channel is its payment_code; the documented answer does not carry one.
      channel: textOf(present(entry.payment_code))?.toUpperCase() ?? null,
      fee: fee === null ? null : s88payAmount(fee),
      // `datetime` is documented as "2023-11-07T05:31:56Z"; one without an offset is not read.
      occurredAt: rfc3339Time(entry.datetime),
      raw: answer,
      warnings: normalized
        ? []
        : [`S88Pay status ${JSON.stringify(providerStatus)} is unknown; taken as pending`],
    },
  };
}

/** S88Pay transaction status API, asked by transaction_code. */
@Injectable()
export class S88payStatusApi implements ProviderStatusApi {
  readonly provider = 's88pay';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  readonly unprovenWithout = "the payload's integrity (AES-256-CBC without a MAC is malleable)";

  /** The answer names the transaction by its code; transaction_no is not asked for. */
  readonly requiredFacts: ReadonlyArray<RequiredFact> = ['merchantReference', 'amount', 'currency'];

  /** The status request carries only the transaction code (and our key). */
  queryKey(query: StatusQuery): string {
    return JSON.stringify([query.merchantReference]);
  }

  isConfigured(): boolean {
    return this.config.providers.s88pay !== null;
  }

  isEnabled(): boolean {
    return Boolean(this.config.providers.s88pay?.inquiry);
  }

  async inquire(query: StatusQuery): Promise<InquiryAnswer> {
    if (!this.config.providers.s88pay?.inquiry)
      return { kind: 'refused', reason: 'S88Pay inquiry is off' };
    const settings = this.config.accounts.statusApiCredentials('s88pay', query.account);
    if (settings?.provider !== 's88pay') {
      return {
        kind: 'refused',
        reason: `S88Pay account ${query.account} is not configured or has no key valid now`,
      };
    }
    const code = query.merchantReference;
    const answer = await requestProvider(
      `${settings.apiUrl}${s88payStatusPath(settings.merchantCode)}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: s88payStatusRequestBody(settings, code),
      },
    );
    if ('kind' in answer) return answer;
    return parseS88payStatus(answer.status, answer.json, code);
  }
}
