import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { digestEqual } from '../../common/constant-time.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { NormalizedTransaction } from '../../events/normalized-transaction.js';
import type {
  CallbackAck,
  CallbackProvider,
  InboundCallback,
  ProviderSummary,
  VerifiedCallback,
} from '../../ingest/callback-provider.js';
import {
  requireContentType,
  requireFields,
  requireString,
  unauthorized,
} from '../../ingest/callback-errors.js';
import { accountsAllowing, matchCredential, requireMatch } from '../../ingest/credential-match.js';
import { NicepayNotificationDto } from './nicepay.dto.js';
import { nicepayMerchantToken } from './nicepay.signature.js';
import {
  NICEPAY_ACK,
  NICEPAY_BODY_LIMIT,
  NICEPAY_PAY_METHOD,
  NICEPAY_STATUS,
  NICEPAY_TIME_OFFSET,
  NICEPAY_TXID_LENGTH,
} from './nicepay.facts.js';
import { verificationMode } from '../../verification/verification-mode.js';

const NICEPAY_TXID = new RegExp(`^[A-Za-z0-9]{${NICEPAY_TXID_LENGTH}}$`);

// Kept in its own file so the simulator signs without loading the DTOs (and Swagger).
export { nicepayMerchantToken };

function jakartaTime(date: string | undefined, time: string | undefined): Date | null {
  if (!date || !time) return null;
  const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}${NICEPAY_TIME_OFFSET}`;
  const parsed = new Date(iso);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

@Injectable()
export class NicepayProvider implements CallbackProvider<NicepayNotificationDto> {
  readonly name = 'nicepay';
  readonly displayName = 'NICEPAY';
  readonly dto = NicepayNotificationDto;
  readonly referenceField = 'referenceNo';
  readonly bodyLimit = NICEPAY_BODY_LIMIT;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  private get settings() {
    return this.config.providers.nicepay;
  }

  isEnabled(): boolean {
    return this.settings !== null;
  }

  summary(): ProviderSummary {
    const everyone =
      this.settings?.accounts.some((account) => account.allowlist?.allowsEveryone) ?? false;
    return {
      authentication: `merchantToken + source address${everyone ? ' (any: *)' : ''}`,
      verification: verificationMode(this.settings?.inquiry, 'NICEPAY_VERIFY'),
      enableWith: 'NICEPAY_IMID and NICEPAY_MERCHANT_KEY',
      warnings: everyone
        ? ['NICEPAY_ALLOWED_IPS=*: NICEPAY callbacks are accepted from any address']
        : [],
    };
  }

  /**
   * Source address on the allowlist of at least one account, then the merchantToken of one key of
   * one such account (the iMid is not in the body: every account's is tried).
   */
  authenticate(inbound: InboundCallback): VerifiedCallback {
    const candidates = accountsAllowing(this.settings!.accounts, inbound, this.displayName);
    requireContentType(inbound, 'application/x-www-form-urlencoded', this.displayName);
    const fields = requireFields(inbound.body, this.displayName);
    const token = fields.merchantToken;
    if (typeof token !== 'string' || token.length === 0) {
      throw unauthorized('NICEPAY merchantToken is missing');
    }
    const tXid = requireString(fields, 'tXid', this.displayName);
    const amt = requireString(fields, 'amt', this.displayName);
    // The token hashes tXid and amt with no separator: only a fixed tXid length stops digits being
    // moved from one to the other under a genuine token (tXid …0001 + amt 150000 = tXid …000 +
    // amt 1150000). NICEPAY's tXids are 30 characters (iMid + method + time + sequence).
    if (!NICEPAY_TXID.test(tXid)) {
      throw new BadRequestException(
        `NICEPAY tXid must be ${NICEPAY_TXID_LENGTH} letters or digits`,
      );
    }
    // Every key of every candidate iMid is tried (constant time each); several may share a key.
    const presented = token.toLowerCase();
    const { account, key } = requireMatch(
      matchCredential(candidates, inbound.receivedAt, (candidate, k) =>
        digestEqual(presented, nicepayMerchantToken(candidate.iMid, tXid, amt, k.merchantKey)),
      ),
      inbound.receivedAt,
      this.displayName,
      'NICEPAY merchantToken does not match any configured iMid',
    );
    return {
      account: account.id,
      key: key.label,
      fields,
      verification: `merchantToken matched iMid ${account.iMid}; source ${inbound.clientIp} allowed`,
    };
  }

  normalize(dto: NicepayNotificationDto, verified: VerifiedCallback): NormalizedTransaction {
    const channel = [dto.bankCd, dto.mitraCd, dto.issuBankCd, dto.issueBankCd, dto.acquBankCd].find(
      (value): value is string => typeof value === 'string' && value.length > 0 && value !== 'null',
    );
    return {
      domain: 'payment',
      status: NICEPAY_STATUS[dto.status],
      providerStatus: dto.status,
      providerTransactionId: dto.tXid,
      merchantReference: dto.referenceNo,
      amount: dto.amt,
      currency: (dto.currency ?? 'IDR').toUpperCase(),
      fee: dto.fee ?? null,
      paymentMethod: NICEPAY_PAY_METHOD[dto.payMethod] ?? null,
      channel: channel ? channel.toUpperCase() : null,
      product: null,
      occurredAt:
        jakartaTime(dto.depositDt, dto.depositTm) ?? jakartaTime(dto.transDt, dto.transTm),
      raw: verified.fields,
    };
  }

  ack(): CallbackAck {
    return NICEPAY_ACK;
  }
}
