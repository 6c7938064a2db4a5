import { applyDecorators, BadRequestException } from '@nestjs/common';
import { ApiParam, ApiQuery } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { constantTimeEqual } from '../common/constant-time.js';
import type { ProviderAccounts, UrlTokenAccount } from '../config/accounts.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { DEFAULT_ACCOUNT } from '../config/provider-accounts.js';
import type { EventStatus, NormalizedTransaction } from '../events/normalized-transaction.js';
import type {
  CallbackAck,
  CallbackProvider,
  InboundCallback,
  ProviderSummary,
  VerifiedCallback,
} from '../ingest/callback-provider.js';
import { unauthorized } from '../ingest/callback-errors.js';
import { accountsAllowing, matchCredential, requireMatch } from '../ingest/credential-match.js';

/**
 * What Sidopulsa and the PPOB server have in common: unsigned GET reports whose only protection
 * is a source-address allowlist and a secret token in the registered callback URL
 * (`/callbacks/<provider>/:token`), and fields that become a `topup` transaction.
 */

/** The account of the environment variables (top-up orders are placed for it). */
export const SINGLE_ACCOUNT = DEFAULT_ACCOUNT;

/**
 * Allowlist first (403 when no account admits the source), then the URL token (401), then the
 * query as flat string fields (400). The token names the account: each account has its own
 * callback URL (several during a rotation); an account without tokens is reached by the route
 * without one. Messages and the verification line never contain the token.
 */
export function authenticateUrlToken(
  settings: ProviderAccounts<UrlTokenAccount>,
  inbound: InboundCallback,
  provider: string,
): VerifiedCallback {
  const candidates = accountsAllowing(settings.accounts, inbound, provider);
  const presented = inbound.params.token;
  const source = (account: UrlTokenAccount) =>
    account.allowlist ? [`source ${inbound.clientIp} allowed`] : [];
  if (presented === undefined || presented.length === 0) {
    const open = candidates.find((account) => account.keys.length === 0);
    if (!open) {
      throw unauthorized(
        `${provider} callback token required: use the callback URL that ends in /<token>`,
      );
    }
    return {
      account: open.id,
      fields: flatQuery(inbound.query, provider),
      verification: source(open).join('; '),
    };
  }
  if (!settings.accounts.some((account) => account.keys.length > 0)) {
    // A token we cannot check must not look checked: register the URL without it.
    throw unauthorized(
      `${provider} callback token sent, but no token is configured on this gateway`,
    );
  }
  const { account, key } = requireMatch(
    matchCredential(candidates, inbound.receivedAt, (_account, k) =>
      constantTimeEqual(presented, k.token),
    ),
    inbound.receivedAt,
    provider,
    `${provider} callback token does not match`,
  );
  return {
    account: account.id,
    key: key.label,
    fields: flatQuery(inbound.query, provider),
    verification: [...source(account), 'URL token matched'].join('; '),
  };
}

/**
 * The query as `name → string`. Express's simple parser turns a repeated key into an array:
 * which copy is meant is unknowable, so it is refused rather than guessed.
 */
export function flatQuery(
  query: Record<string, unknown>,
  provider: string,
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      throw new BadRequestException(
        `${provider} callback query parameter ${name} must appear once`,
      );
    }
    fields[name] = value;
  }
  return fields;
}

/**
 * Base of both providers: enabled when either protection is configured, authenticated by
 * authenticateUrlToken; each subclass maps its own fields in `normalize`.
 */
export abstract class UrlTokenProvider<Dto extends object> implements CallbackProvider<Dto> {
  abstract readonly name: 'sidopulsa' | 'ppob';
  abstract readonly displayName: string;
  abstract readonly dto: new () => Dto;
  protected abstract readonly config: GatewayConfig;
  protected abstract readonly ackResponse: CallbackAck;

  private get settings(): ProviderAccounts<UrlTokenAccount> | null {
    return this.config.providers[this.name];
  }

  isEnabled(): boolean {
    return this.settings !== null;
  }

  summary(): ProviderSummary {
    const prefix = this.name.toUpperCase();
    const accounts = this.settings?.accounts ?? [];
    const tokens = accounts.some((account) => account.keys.length > 0);
    const tokenless = accounts.some((account) => account.keys.length === 0);
    const everyone = accounts.some((account) => account.allowlist?.allowsEveryone);
    const checks = [
      tokens ? 'URL token' : null,
      accounts.some((account) => account.allowlist)
        ? `source address${everyone ? ' (any: *)' : ''}`
        : null,
    ].filter((check): check is string => check !== null);
    return {
      authentication: checks.join(' + ') || 'none',
      verification: 'none (no status API confirms a report)',
      enableWith: `${prefix}_CALLBACK_TOKEN and/or ${prefix}_ALLOWED_IPS`,
      warnings: [
        ...(everyone
          ? [`${prefix}_ALLOWED_IPS=*: ${this.displayName} callbacks are accepted from any address`]
          : []),
        ...(tokenless
          ? [`${prefix}_CALLBACK_TOKEN unset: only the source address protects ${this.displayName}`]
          : []),
      ],
    };
  }

  authenticate(inbound: InboundCallback): VerifiedCallback {
    return authenticateUrlToken(this.settings!, inbound, this.displayName);
  }

  abstract normalize(dto: Dto, verified: VerifiedCallback): NormalizedTransaction;

  ack(): CallbackAck {
    return this.ackResponse;
  }
}

/**
 * class-validator: the value is a key of the provider's status table (after `fold`, e.g. lower
 * case). The 400 names the value received, so a new provider status is easy to spot.
 */
export function IsKnownStatus(
  table: Record<string, EventStatus>,
  fold = (value: string) => value,
): PropertyDecorator {
  const known = Object.keys(table);
  return ValidateBy({
    name: 'isKnownStatus',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && Object.hasOwn(table, fold(value)),
      defaultMessage: (args) =>
        `${args?.property} ${JSON.stringify(args?.value)} is not a known status (expected one of ${known.join(', ')})`,
    },
  });
}

export interface QueryFieldDoc {
  description: string;
  required?: boolean;
}

/** Swagger: one @ApiQuery per report field, its example taken from a real-shaped sample. */
export function ApiQueryFields(
  fields: Record<string, QueryFieldDoc>,
  sample: Record<string, string>,
): MethodDecorator {
  return applyDecorators(
    ...Object.entries(fields).map(([name, doc]) =>
      ApiQuery({
        name,
        description: doc.description,
        required: doc.required ?? false,
        example: sample[name],
      }),
    ),
  );
}

/** Swagger: the `:token` path segment of the token route. */
export function ApiUrlTokenParam(tokenVariable: string, demoToken: string): MethodDecorator {
  return ApiParam({
    name: 'token',
    description: `The secret from \`${tokenVariable}\`, as part of the callback URL registered with the provider`,
    // The demo configuration's token (.env.example), so the committed example works against it.
    example: demoToken,
  });
}

export interface TopupReport {
  status: EventStatus;
  providerStatus: string;
  providerTransactionId: string | null;
  merchantReference: string;
  amount: string | null;
  code: string | undefined;
  destination: string | undefined;
  serialNumber: string | undefined;
  raw: Record<string, unknown>;
}

const present = (value: string | undefined): string | null =>
  value === undefined || value.trim() === '' ? null : value;

/**
 * Both providers are IDR-only and send no time, fee or method. On a failure the `sn` field holds
 * a failure text (Sidopulsa: "Trx gagal"), never a voucher, so serialNumber is null then; the
 * text stays in `raw`.
 */
export function topupTransaction(report: TopupReport): NormalizedTransaction {
  return {
    domain: 'topup',
    status: report.status,
    providerStatus: report.providerStatus,
    providerTransactionId: report.providerTransactionId,
    merchantReference: report.merchantReference,
    amount: report.amount,
    currency: 'IDR',
    fee: null,
    paymentMethod: null,
    channel: null,
    product: {
      code: present(report.code),
      destination: present(report.destination),
      serialNumber: report.status === 'failed' ? null : present(report.serialNumber),
    },
    occurredAt: null,
    raw: report.raw,
  };
}
