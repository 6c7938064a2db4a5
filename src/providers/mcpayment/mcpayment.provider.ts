import { Inject, Injectable } from '@nestjs/common';
import { digestEqual } from '../../common/constant-time.js';
import { sumDecimals, toDecimalString } from '../../common/decimal.js';
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
import { McpaymentCallbackDto } from './mcpayment.dto.js';
import {
  MCPAYMENT_ACK,
  MCPAYMENT_BODY_LIMIT,
  MCPAYMENT_SIGNATURE_HEADER,
  mcpaymentPaymentMethod,
  mcpaymentStatus,
} from './mcpayment.facts.js';
import { mcpaymentCallbackSignature } from './mcpayment.signature.js';
import { verificationMode } from '../../verification/verification-mode.js';

function parseTime(value: unknown): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

/** The latest parseable time among the values (partial payments / refunds come as a history). */
function latest(values: unknown[]): Date | null {
  return values.map(parseTime).reduce<Date | null>((a, b) => (b && (!a || b > a) ? b : a), null);
}

/**
 * The sum of `refund_history[].refund_amount`: it grows with each further partial refund, which is
 * what makes a REFUNDED callback new money rather than a re-send. Null when there is no history
 * or an amount is not a decimal.
 */
function refundedTotal(dto: McpaymentCallbackDto): string | null {
  const amounts = (dto.refund_history ?? []).map((entry) => toDecimalString(entry?.refund_amount));
  if (amounts.length === 0 || amounts.some((amount) => amount === null)) return null;
  return sumDecimals(amounts as string[]);
}

/** `payment_channel`, else `issuer` (sent with a trailing space), trimmed and upper case. */
function channelOf(dto: McpaymentCallbackDto): string | null {
  for (const value of [dto.payment_channel, dto.issuer]) {
    const text = typeof value === 'string' ? value.trim() : '';
    if (text.length > 0 && text.toLowerCase() !== 'null') return text.toUpperCase();
  }
  return null;
}

@Injectable()
export class McpaymentProvider implements CallbackProvider<McpaymentCallbackDto> {
  readonly name = 'mcpayment';
  readonly displayName = 'MCPayment';
  readonly dto = McpaymentCallbackDto;
  readonly bodyLimit = MCPAYMENT_BODY_LIMIT;
  readonly recordedHeaders = [MCPAYMENT_SIGNATURE_HEADER];
  readonly referenceField = 'order_id';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  private get settings() {
    return this.config.providers.mcpayment;
  }

  isEnabled(): boolean {
    return this.settings !== null;
  }

  summary(): ProviderSummary {
    return {
      authentication: 'mcp-signature (SHA-256 over the ids)',
      verification: verificationMode(this.settings?.inquiry, 'MCPAYMENT_VERIFY'),
      enableWith: 'MCPAYMENT_HASH_KEY',
      warnings: [],
    };
  }

  /**
   * mcp-signature over transaction_id and the recomputed x-req-signature (+ sub-merchant id), tried
   * with every key of every account the source address may send for.
   */
  authenticate(inbound: InboundCallback): VerifiedCallback {
    const candidates = accountsAllowing(this.settings!.accounts, inbound, this.displayName);
    requireContentType(inbound, 'application/json', this.displayName);
    const fields = requireFields(inbound.body, this.displayName);
    const header = inbound.headers[MCPAYMENT_SIGNATURE_HEADER];
    const signature = typeof header === 'string' ? header.trim().toLowerCase() : '';
    if (signature.length === 0) throw unauthorized('MCPayment mcp-signature header is missing');
    const transactionId = requireString(fields, 'transaction_id', this.displayName);
    const externalId = requireString(fields, 'external_id', this.displayName);
    const orderId = requireString(fields, 'order_id', this.displayName);
    // An account with a sub-merchant accepts only its formula: the plain one would let a
    // signature meant for the parent merchant pass as the sub-merchant's.
    const withSubMerchant = candidates.some((account) => account.subMerchantId !== null);
    const { account, key } = requireMatch(
      matchCredential(candidates, inbound.receivedAt, (candidate, k) =>
        digestEqual(
          signature,
          mcpaymentCallbackSignature(
            k.hashKey,
            transactionId,
            externalId,
            orderId,
            candidate.subMerchantId,
          ),
        ),
      ),
      inbound.receivedAt,
      this.displayName,
      withSubMerchant
        ? 'MCPayment mcp-signature does not match the configured hash key and sub-merchant id'
        : 'MCPayment mcp-signature does not match the configured hash key',
    );
    const formula = account.subMerchantId
      ? 'transaction_id + x-req-signature + sub_merchant_id'
      : 'transaction_id + x-req-signature';
    return {
      account: account.id,
      key: key.label,
      fields,
      verification: `mcp-signature matched SHA-256(${formula}) for account ${account.id}`,
    };
  }

  normalize(dto: McpaymentCallbackDto, verified: VerifiedCallback): NormalizedTransaction {
    const status = mcpaymentStatus(dto.transaction_status)!;
    const details = dto.payment_details;
    // When it happened: paid / refunded time where MCPayment sends one, else the transaction time.
    let happened: Date | null = null;
    if (status === 'succeeded') {
      happened =
        parseTime(details.paid_time) ??
        latest((dto.payment_history ?? []).map((p) => p?.paid_time));
    } else if (status === 'refunded') {
      happened = latest((dto.refund_history ?? []).map((r) => r?.refund_time));
    }
    const fee = details.total_fee_amount ?? null;
    return {
      ...(status === 'refunded' ? { refundedTotal: refundedTotal(dto) } : {}),
      domain: 'payment',
      status,
      providerStatus: dto.transaction_status,
      providerTransactionId: dto.transaction_id,
      // order_id is the merchant's order, what order services look up; external_id identifies one
      // payment request (an order may have several) and stays in raw.
      merchantReference: dto.order_id,
      // The bill amount the merchant asked for; fees are `fee`, total/paid amounts stay in raw.
      amount: toDecimalString(details.amount),
      currency: (dto.currency ?? 'IDR').toUpperCase(),
      fee: fee === null ? null : toDecimalString(fee),
      paymentMethod: mcpaymentPaymentMethod(dto.payment_method),
      channel: channelOf(dto),
      product: null,
      occurredAt: happened ?? parseTime(dto.transaction_time),
      raw: verified.fields,
    };
  }

  ack(): CallbackAck {
    return MCPAYMENT_ACK;
  }
}
