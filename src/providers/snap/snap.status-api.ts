import { Inject, Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { currentKey, type SnapAccount } from '../../config/accounts.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  type InquiryAnswer,
  isRecord,
  type ProviderStatusApi,
  type RequiredFact,
  requestProvider,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import {
  bodyHashes,
  clientKeyStringToSign,
  hmacSha512,
  rsaSign,
  tokenStringToSign,
} from './snap.signature.js';
import { firstText, moneyOf, paymentMethodOf } from './snap.normalize.js';
import { type SnapProfile, statusOf } from '../../config/snap/snap.profile.js';

/** X-TIMESTAMP as SNAP providers expect it: Jakarta time with its offset, seconds precision. */
export function snapTimestampNow(now = new Date()): string {
  return `${new Date(now.getTime() + 7 * 3_600_000).toISOString().slice(0, 19)}+07:00`;
}

/** A token is renewed this long before the expiry the provider stated. */
const TOKEN_MARGIN_MS = 60_000;

interface CachedToken {
  token: string;
  until: number;
  /** The key it was obtained with: a rotation gets a new token. */
  label: string;
}

/** Where an answer keeps its facts: the top level, `virtualAccountData`, `additionalInfo`. */
function sectionsOf(answer: Record<string, unknown>): Record<string, unknown>[] {
  const sections = [answer];
  for (const name of ['virtualAccountData', 'additionalInfo']) {
    const section = answer[name];
    if (isRecord(section)) {
      sections.push(section);
      if (isRecord(section.additionalInfo)) sections.push(section.additionalInfo);
    }
  }
  return sections;
}

/**
 * A status answer → what the provider says. Only `successCode` is an answer about the
 * transaction; 401 (our credentials) is `refused`, 404 / `404xx01` (not found) `unknown`, 5xx,
 * 429 and malformed answers `unavailable`.
 */
export function parseSnapStatus(
  profile: SnapProfile,
  query: StatusQuery,
  http: { status: number; json: unknown },
): InquiryAnswer {
  const api = profile.statusApi!;
  const answer = http.json;
  const code = isRecord(answer) ? (textOf(answer.responseCode) ?? '') : '';
  const said =
    `${profile.displayName} answered HTTP ${http.status}${code ? ` responseCode ${code}` : ''} ${isRecord(answer) ? (textOf(answer.responseMessage) ?? '') : ''}`.trim();
  if (http.status >= 500 || http.status === 429 || !isRecord(answer) || !code)
    return { kind: 'unavailable', reason: said };
  if (http.status === 401 || http.status === 403) return { kind: 'refused', reason: said };
  if (http.status !== 200 || code !== api.successCode)
    return { kind: 'unknown', reason: said, raw: answer };
  const sections = sectionsOf(answer);
  const find = (names: string[]) =>
    sections.map((section) => firstText(section, names)).find((value) => value !== null) ?? null;
  // Field first, then where it sits: latestTransactionStatus (the transaction) wins over a
  // paymentFlagStatus (the last payment attempt) wherever each is.
  const statusCode = profile.statusFields
    .map((field) => find([field]))
    .find((value) => value !== null);
  if (!statusCode) return { kind: 'unavailable', reason: `${said} without a transaction status` };
  const { status, warning } = statusOf(
    api.statusMap,
    statusCode,
    `${profile.displayName} status API`,
  );
  // Until it is paid the paid amount is 0.00: the bill (totalAmount) is the transaction's amount.
  const amountFields =
    status === 'succeeded'
      ? ['paidAmount', 'totalAmount', 'amount']
      : ['totalAmount', 'amount', 'paidAmount'];
  const money =
    sections.map((section) => moneyOf(section, amountFields)).find((value) => value !== null) ??
    null;
  const providerId = find(['paymentRequestId', 'originalReferenceNo', 'referenceNo']);
  return {
    kind: 'found',
    report: {
      status,
      providerStatus: statusCode,
      // Without an id in the callback the transaction is keyed by the reference: an id only the
      // answer states would make it another transaction.
      providerTransactionId: query.providerTransactionId === null ? null : providerId,
      merchantReference: find(['trxId', 'originalPartnerReferenceNo', 'partnerReferenceNo']),
      amount: money?.amount ?? null,
      currency: money?.currency ?? null,
      refundedTotal: null,
      paymentMethod: paymentMethodOf(query.raw, null),
      channel: profile.name.toUpperCase(),
      fee: null,
      occurredAt: null,
      raw: answer,
      warnings: warning ? [warning] : [],
    },
  };
}

/**
 * The status API of SNAP accounts whose family does not sign the body (rsa-clientkey, NICEPAY
 * SNAP): their callbacks are hints, the answer is the event. A B2B access token (SHA256withRSA of
 * `clientKey|X-TIMESTAMP` with the merchant's private key), then the VA status inquiry signed
 * HMAC-SHA512 over `POST:path:token:bodyHash:X-TIMESTAMP` with the client secret.
 */
@Injectable()
export class SnapStatusApi implements ProviderStatusApi {
  readonly provider = 'snap';
  readonly unprovenWithout =
    'the whole body of rsa-clientkey notifications (their signature covers only X-CLIENT-KEY and X-TIMESTAMP)';
  readonly requiredFacts: ReadonlyArray<RequiredFact> = ['merchantReference', 'amount', 'currency'];
  private readonly tokens = new Map<string, CachedToken>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  private account(id: string): SnapAccount | undefined {
    return this.config.providers.snap?.accounts.find((account) => account.id === id);
  }

  isConfigured(): boolean {
    return this.config.providers.snap !== null;
  }

  /** On whenever an account's profile has a status API: for those it cannot be turned off. */
  isEnabled(): boolean {
    return this.config.providers.snap?.accounts.some((a) => a.profile.statusApi !== null) ?? false;
  }

  /** Only rsa-clientkey (status API) accounts' callbacks are hints; the others sign the body. */
  verifiesAccount(account: string): boolean {
    return this.account(account)?.profile.statusApi != null;
  }

  verifiedAccounts(): string[] {
    return (this.config.providers.snap?.accounts ?? [])
      .filter((account) => account.profile.statusApi !== null)
      .map((account) => account.id);
  }

  queryKey(query: StatusQuery): string {
    return JSON.stringify([
      query.account,
      query.merchantReference,
      textOf(query.raw.virtualAccountNo),
    ]);
  }

  async inquire(query: StatusQuery): Promise<InquiryAnswer> {
    const account = this.account(query.account);
    const key = account && currentKey(account);
    if (!account?.profile.statusApi || !key?.privateKey || !key.clientSecret || !account.apiUrl)
      return {
        kind: 'refused',
        reason: `SNAP account ${query.account} has no status API, or no key valid now with privateKey and clientSecret`,
      };
    const token = await this.accessToken(account, key);
    if ('kind' in token) return token;
    const api = account.profile.statusApi;
    const raw = query.raw;
    const extra = isRecord(raw.additionalInfo) ? raw.additionalInfo : {};
    const body = JSON.stringify({
      partnerServiceId: textOf(raw.partnerServiceId) ?? '',
      customerNo: textOf(raw.customerNo) ?? '',
      virtualAccountNo: textOf(raw.virtualAccountNo) ?? '',
      inquiryRequestId: textOf(raw.inquiryRequestId) ?? query.merchantReference,
      additionalInfo: {
        totalAmount: isRecord(raw.paidAmount) ? raw.paidAmount : (raw.totalAmount ?? null),
        trxId: query.merchantReference,
        tXidVA: textOf(extra.tXidVA) ?? query.providerTransactionId ?? '',
      },
    });
    const timestamp = snapTimestampNow();
    const signature = hmacSha512(
      key.clientSecret,
      tokenStringToSign(
        api.signedStatusPath ?? api.statusPath,
        token.token,
        bodyHashes(Buffer.from(body))[0],
        timestamp,
      ),
    );
    const answer = await requestProvider(`${account.apiUrl}${api.statusPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${token.token}`,
        'x-timestamp': timestamp,
        'x-signature': signature,
        'x-partner-id': account.partnerId ?? '',
        'x-external-id': `${Date.now()}${randomInt(1_000_000).toString().padStart(6, '0')}`,
        'channel-id': account.channelId ?? '',
      },
      body,
    });
    if ('kind' in answer) return answer;
    // A refused token (expired early, revoked) is dropped: the next inquiry gets a new one.
    if (answer.status === 401) this.tokens.delete(account.id);
    return parseSnapStatus(account.profile, query, answer);
  }

  private async accessToken(
    account: SnapAccount,
    key: NonNullable<ReturnType<typeof currentKey<SnapAccount['keys'][number]>>>,
  ): Promise<CachedToken | Extract<InquiryAnswer, { kind: 'unavailable' | 'refused' }>> {
    const cached = this.tokens.get(account.id);
    if (cached && cached.label === key.label && cached.until > Date.now()) return cached;
    const api = account.profile.statusApi!;
    const timestamp = snapTimestampNow();
    const answer = await requestProvider(`${account.apiUrl}${api.tokenPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-timestamp': timestamp,
        'x-client-key': account.clientKey ?? '',
        'x-signature': rsaSign(
          key.privateKey!,
          clientKeyStringToSign(account.clientKey ?? '', timestamp),
        ),
      },
      body: JSON.stringify({ grantType: 'client_credentials', additionalInfo: {} }),
    });
    if ('kind' in answer) return answer;
    const json = isRecord(answer.json) ? answer.json : {};
    const token = textOf(json.accessToken);
    const said =
      `${account.profile.displayName} access token: HTTP ${answer.status} ${textOf(json.responseCode) ?? ''} ${textOf(json.responseMessage) ?? ''}`.trim();
    if (answer.status >= 500 || answer.status === 429) return { kind: 'unavailable', reason: said };
    if (answer.status !== 200 || !token) return { kind: 'refused', reason: said };
    const seconds = Number(textOf(json.expiresIn) ?? '900');
    const lifetime = (Number.isFinite(seconds) && seconds > 0 ? seconds : 900) * 1000;
    const fresh = {
      token,
      label: key.label,
      until: Date.now() + Math.max(lifetime - TOKEN_MARGIN_MS, lifetime / 2),
    };
    this.tokens.set(account.id, fresh);
    return fresh;
  }
}
