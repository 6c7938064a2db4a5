import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  type InquiryAnswer,
  isRecord,
  type ProviderStatusApi,
  requestProvider,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import { encryptS88payKey, type S88payCredentials } from './s88pay.crypto.js';
import { s88payAmount } from './s88pay.dto.js';
import { S88PAY_API_STATUS, S88PAY_STATUS, s88payStatusPath } from './s88pay.facts.js';

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

/** An answer `{ success, message, data: [ … ] }` → S88Pay's account of the transaction. */
export function parseS88payStatus(
  status: number,
  answer: unknown,
  transactionCode: string,
): InquiryAnswer {
  const message = isRecord(answer) ? (textOf(answer.message) ?? '') : '';
  if (status === 401 || status === 403) {
    return {
      kind: 'refused',
      reason:
        `S88Pay status API answered HTTP ${status} ${message} (check S88PAY_MERCHANT_CODE / S88PAY_API_KEY / S88PAY_SECRET_KEY)`.trim(),
    };
  }
  if (status >= 500 || status === 429 || status === 408) {
    return { kind: 'unavailable', reason: `S88Pay status API answered HTTP ${status}` };
  }
  if (!isRecord(answer)) {
    return {
      kind: 'unavailable',
      reason: `S88Pay status API answered HTTP ${status} without JSON`,
    };
  }
  const entries = Array.isArray(answer.data) ? answer.data.filter(isRecord) : [];
  const entry = entries.find((d) => textOf(d.transaction_code) === transactionCode);
  if (answer.success !== true || !entry) {
    return {
      kind: 'unknown',
      reason: `S88Pay does not report transaction ${transactionCode} (HTTP ${status}${message ? `: ${message}` : ''})`,
      raw: answer,
    };
  }
  const providerStatus = textOf(entry.status) ?? '';
  const key = providerStatus.trim().toLowerCase();
  const normalized = S88PAY_API_STATUS[key] ?? S88PAY_STATUS[key];
  const amount = present(entry.amount);
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
