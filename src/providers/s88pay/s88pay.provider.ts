import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { constantTimeEqual } from '../../common/constant-time.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { NormalizedTransaction } from '../../events/normalized-transaction.js';
import type {
  CallbackAck,
  CallbackProvider,
  InboundCallback,
  ProviderSummary,
  VerifiedCallback,
} from '../../ingest/callback-provider.js';
import { requireContentType, requireFields, unauthorized } from '../../ingest/callback-errors.js';
import { accountsAllowing, matchCredential, requireMatch } from '../../ingest/credential-match.js';
import type { S88payAccount, S88payKey } from '../../config/accounts.js';
import {
  decryptS88payCiphertext,
  parseS88payPlaintext,
  s88payCiphertext,
  type S88payCipherKey,
  s88payCipherKey,
  S88payDecryptionError,
} from './s88pay.crypto.js';
import { S88payCallbackDto, s88payAmount, s88payStatus, s88payWellFormed } from './s88pay.dto.js';
import {
  S88PAY_ACK,
  S88PAY_BODY_LIMIT,
  S88PAY_DEFAULT_ACCOUNT,
  S88PAY_SECRET_FIELDS,
} from './s88pay.facts.js';
import { verificationMode } from '../../verification/verification-mode.js';

/** A code as text, or null when absent. Codes are strings; a number is tolerated as its digits. */
function codeOf(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * One answer for every refusal found by decrypting: wrong credentials, bad padding, a plaintext
 * that is not a callback, codes that do not match. Distinct messages would let an attacker use the
 * gateway as a padding oracle to decrypt captured keys (which carry the merchant's api_key).
 */
const S88PAY_REFUSED =
  'S88Pay key is not a callback for the configured credentials and the transaction codes sent beside it';

interface Opened {
  decrypted: Record<string, unknown>;
  notes: string[];
}

@Injectable()
export class S88payProvider implements CallbackProvider<S88payCallbackDto> {
  readonly name = 's88pay';
  readonly displayName = 'S88Pay';
  readonly dto = S88payCallbackDto;
  readonly bodyLimit = S88PAY_BODY_LIMIT;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  private get settings() {
    return this.config.providers.s88pay;
  }

  isEnabled(): boolean {
    return this.settings !== null;
  }

  summary(): ProviderSummary {
    return {
      authentication: 'AES-256-CBC key decrypts',
      verification: verificationMode(this.settings?.inquiry, 'S88PAY_VERIFY'),
      enableWith: 'S88PAY_API_KEY and S88PAY_SECRET_KEY',
      warnings: [],
    };
  }

  /** AES key and IV per configured key, derived once (keys are replaced whole on a reload). */
  private readonly cipherKeys = new WeakMap<S88payKey, S88payCipherKey>();

  private cipherKey(key: S88payKey): S88payCipherKey {
    let derived = this.cipherKeys.get(key);
    if (!derived) {
      derived = s88payCipherKey(key);
      this.cipherKeys.set(key, derived);
    }
    return derived;
  }

  /**
   * No signature: `key` must decrypt with one account's api_key / secret_key (each account's keys
   * in turn, stopping at the first that opens it) into an object whose transaction_code (required)
   * and transaction_no (when both sides carry one) equal the plaintext ones sent beside it, so an
   * authentic `key` cannot be replayed under another transaction.
   */
  authenticate(inbound: InboundCallback): VerifiedCallback {
    const candidates = accountsAllowing(this.settings!.accounts, inbound, this.displayName);
    requireContentType(inbound, 'application/json', this.displayName);
    const body = requireFields(inbound.body, this.displayName);
    if (typeof body.key !== 'string' || body.key.length === 0)
      throw unauthorized('S88Pay key is missing');

    let ciphertext: Buffer;
    try {
      ciphertext = s88payCiphertext(body.key);
    } catch (error) {
      if (error instanceof S88payDecryptionError) throw unauthorized(`S88Pay ${error.message}`);
      throw error;
    }
    let opened: Opened | null = null;
    const { account, key } = requireMatch(
      matchCredential(
        candidates,
        inbound.receivedAt,
        (candidate, k) => (opened = this.open(ciphertext, body, candidate, k)) !== null,
        false,
      ),
      inbound.receivedAt,
      this.displayName,
      S88PAY_REFUSED,
    );
    const { decrypted, notes } = opened as unknown as Opened;

    // The merchant's api_key travels inside the payload: it must never reach an event (only the
    // still-encrypted body is stored, as received).
    const fields = Object.fromEntries(
      Object.entries(decrypted).filter(([name]) => !S88PAY_SECRET_FIELDS.test(name)),
    );
    const merchant = decrypted.merchant_code;
    const accountName = !account.namedByMerchantCode
      ? account.id
      : typeof merchant === 'string' && merchant.trim().length > 0
        ? merchant
        : S88PAY_DEFAULT_ACCOUNT;
    return {
      account: accountName,
      key: key.label,
      fields,
      verification: ['key decrypted with the configured api_key/secret_key', ...notes].join('; '),
    };
  }

  /**
   * The payload when `key` decrypts with this account's key into a callback for the codes sent
   * beside it (and for the account's merchant code, when it has one); else null.
   */
  private open(
    ciphertext: Buffer,
    body: Record<string, unknown>,
    account: S88payAccount,
    key: S88payKey,
  ): Opened | null {
    let decrypted: Record<string, unknown>;
    try {
      decrypted = parseS88payPlaintext(decryptS88payCiphertext(ciphertext, this.cipherKey(key)));
    } catch (error) {
      if (error instanceof S88payDecryptionError) return null;
      throw error;
    }
    // Field shapes are part of authenticity here (see parseS88payPlaintext): a tampered block
    // shows as a field of the wrong shape as often as as noise.
    if (!s88payWellFormed(decrypted)) return null;
    if (codeOf(decrypted.transaction_code) === null) return null;
    const notes: string[] = [];
    for (const name of ['transaction_code', 'transaction_no'] as const) {
      const inside = codeOf(decrypted[name]);
      const beside = body[name];
      if (beside === undefined || beside === null) continue;
      if (inside === null) {
        notes.push(`${name} beside key is not in the encrypted payload, so not trusted`);
        continue;
      }
      if (!constantTimeEqual(codeOf(beside) ?? '', inside)) return null;
      notes.push(`${name} matches`);
    }
    const merchant = codeOf(decrypted.merchant_code);
    // The environment account's merchant code only addresses the status API, as before accounts.
    if (!account.namedByMerchantCode && account.merchantCode !== null && merchant !== null) {
      if (!constantTimeEqual(merchant, account.merchantCode)) return null;
      notes.push('merchant_code matches the account');
    }
    return { decrypted, notes };
  }

  normalize(dto: S88payCallbackDto, verified: VerifiedCallback): NormalizedTransaction {
    const amount =
      dto.transaction_amount === undefined || dto.transaction_amount === null
        ? null
        : s88payAmount(dto.transaction_amount);
    const fee =
      dto.transaction_fee === undefined || dto.transaction_fee === null
        ? null
        : s88payAmount(dto.transaction_fee);
    const status = s88payStatus(dto.transaction_status);
    if (status === null) throw new BadRequestException('S88Pay transaction_status is unknown');
    const timestamp = dto.transaction_timestamp;
    return {
      domain: 'payment',
      status,
      providerStatus: String(dto.transaction_status),
      // Only the encrypted transaction_no is trusted: the plaintext one could be replayed with any value.
      providerTransactionId: dto.transaction_no ?? null,
      merchantReference: dto.transaction_code,
      amount,
      currency: dto.currency_code.toUpperCase(),
      fee,
      paymentMethod: null,
      channel: dto.payment_code ? dto.payment_code.toUpperCase() : null,
      product: null,
      occurredAt:
        timestamp === undefined || timestamp === null ? null : new Date(Number(timestamp) * 1000),
      raw: verified.fields,
      // transaction_no and transaction_code are two id spaces: a code is never taken for a number.
      identifiedBy: 'taggedMerchantReference',
    };
  }

  ack(): CallbackAck {
    return S88PAY_ACK;
  }
}
