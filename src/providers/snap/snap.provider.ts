import { ForbiddenException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Counter } from 'prom-client';
import { constantTimeEqual } from '../../common/constant-time.js';
import type { SnapAccount, SnapKey } from '../../config/accounts.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { NormalizedTransaction } from '../../events/normalized-transaction.js';
import type {
  CallbackAck,
  CallbackProvider,
  InboundCallback,
  ProviderSummary,
  VerifiedCallback,
} from '../../ingest/callback-provider.js';
import { requireContentType, unauthorized } from '../../ingest/callback-errors.js';
import { matchCredential, requireMatch } from '../../ingest/credential-match.js';
import { GatewayMetrics } from '../../observability/gateway-metrics.js';
import { SnapNotificationDto } from './snap.dto.js';
import { invalid, missing } from './snap.errors.js';
import {
  SNAP_BODY_LIMIT,
  SNAP_HEADERS,
  SNAP_TIMESTAMP,
  SNAP_VA_PAYMENT_ACK,
  serviceOfPath,
} from './snap.facts.js';
import { normalizeSnap } from './snap.normalize.js';
import { signedPathOf, type SnapServiceName } from '../../config/snap/snap.profile.js';
import {
  bodyHashes,
  bodyStringToSign,
  clientKeyStringToSign,
  hmacVerifies,
  notifyUrlStringToSign,
  rsaVerifies,
  tokenStringToSign,
} from './snap.signature.js';
import { tokenProblem } from './snap.token.js';

/** Longest X-EXTERNAL-ID / X-PARTNER-ID accepted (SNAP specifies 36). */
const SNAP_ID_MAX = 128;

/** One header as text ('' when absent; a repeated header is refused as absent). */
export function headerText(inbound: InboundCallback, name: string): string {
  const value = inbound.headers[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** The X-TIMESTAMP as an instant, or a 400 naming the problem. */
export function snapTimestamp(text: string): Date {
  if (!text) throw missing('the X-TIMESTAMP header');
  const match = SNAP_TIMESTAMP.exec(text);
  const at = match ? new Date(text) : null;
  if (!at || Number.isNaN(at.getTime()))
    throw invalid('X-TIMESTAMP must be ISO 8601 with an offset, e.g. 2024-11-20T14:14:15+07:00');
  return at;
}

/** 401 when the timestamp is further than `skewSeconds` from `now` (a replay or a wrong clock). */
export function requireFresh(at: Date, now: Date, skewSeconds: number, text: string): void {
  const drift = Math.abs(now.getTime() - at.getTime()) / 1000;
  if (drift > skewSeconds)
    throw unauthorized(
      `SNAP X-TIMESTAMP ${text} is ${Math.round(drift)} s from the gateway's clock (allowed: ${skewSeconds} s)`,
    );
}

/** The account of the URL (404 when not configured), its address checked (403). */
export function snapAccountOf(config: GatewayConfig, inbound: InboundCallback): SnapAccount {
  const id = inbound.params.account ?? '';
  const account = config.providers.snap?.accounts.find((candidate) => candidate.id === id);
  if (!account)
    throw new NotFoundException(`No SNAP account "${id}" is configured on this gateway`);
  if (account.allowlist && !account.allowlist.allows(inbound.clientIp))
    throw new ForbiddenException(
      `Source address ${inbound.clientIp} is not allowed to send SNAP callbacks for account ${account.id}`,
    );
  return account;
}

/**
 * An HMAC family's test of one key: every body hash is computed and compared (constant time each),
 * so the time taken does not say which form matched.
 */
function hmacTest(
  hashes: string[],
  signature: string,
  stringToSign: (hash: string) => string,
): (key: SnapKey) => boolean {
  return (key) =>
    key.clientSecret !== null &&
    hashes
      .map((hash) => hmacVerifies(key.clientSecret!, stringToSign(hash), signature))
      .some(Boolean);
}

/** The service a verified callback was sent to (by its route); kept beside, never in, the fields. */
const servicesOf = new WeakMap<VerifiedCallback, SnapServiceName>();

@Injectable()
export class SnapProvider implements CallbackProvider<SnapNotificationDto> {
  readonly name = 'snap';
  readonly displayName = 'SNAP';
  readonly dto = SnapNotificationDto;
  readonly bodyLimit = SNAP_BODY_LIMIT;
  readonly referenceField = 'trxId';
  readonly recordedHeaders = [
    SNAP_HEADERS.timestamp,
    SNAP_HEADERS.signature,
    SNAP_HEADERS.partnerId,
    SNAP_HEADERS.externalId,
    SNAP_HEADERS.channelId,
    SNAP_HEADERS.clientKey,
    SNAP_HEADERS.version,
  ];
  private readonly logger = new Logger('SNAP');
  readonly unknownStatuses: Counter<'account' | 'code'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    metrics: GatewayMetrics,
  ) {
    this.unknownStatuses = new Counter({
      name: 'gateway_snap_unknown_status_total',
      help: "SNAP status codes not in the account's profile status map (taken as pending)",
      labelNames: ['account', 'code'] as const,
      registers: [metrics.registry],
    });
  }

  isEnabled(): boolean {
    return this.config.providers.snap !== null;
  }

  summary(): ProviderSummary {
    const accounts = this.config.providers.snap?.accounts ?? [];
    const families = [
      ...new Set(accounts.map((a) => `${a.id}: ${a.profile.name} (${a.profile.family})`)),
    ];
    const everyone = accounts.some((account) => account.allowlist?.allowsEveryone);
    return {
      authentication: `SNAP X-SIGNATURE per profile${families.length ? ` — ${families.join(', ')}` : ''}`,
      verification: accounts.some((a) => a.profile.statusApi)
        ? 'status API for rsa-clientkey accounts (body not signed); signature for the others'
        : 'signature (body signed)',
      enableWith: 'a snap section in ACCOUNTS_FILE (docs/snap.md)',
      warnings: everyone ? ['snap allowedIps *: SNAP callbacks are accepted from any address'] : [],
    };
  }

  /**
   * The URL names the account (and its profile); then, in order: the service is one the profile
   * accepts, JSON, the mandatory headers, X-TIMESTAMP within the skew, X-PARTNER-ID, and the
   * family's signature with one of the account's keys valid now (constant-time comparisons).
   */
  authenticate(inbound: InboundCallback): VerifiedCallback {
    const account = snapAccountOf(this.config, inbound);
    const { profile } = account;
    const service = serviceOfPath(inbound.path);
    if (!service || !Object.hasOwn(profile.services, service))
      throw new NotFoundException(
        `SNAP account ${account.id} (profile ${profile.name}) does not accept this service (accepted: ${Object.keys(profile.services).join(', ')})`,
      );
    requireContentType(inbound, 'application/json', 'SNAP');
    const body = inbound.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw invalid('body must be a JSON object');
    const fields = body as Record<string, unknown>;
    const timestampText = headerText(inbound, SNAP_HEADERS.timestamp);
    const timestamp = snapTimestamp(timestampText);
    const signature = headerText(inbound, SNAP_HEADERS.signature);
    if (!signature) throw missing('the X-SIGNATURE header');
    const externalId = headerText(inbound, SNAP_HEADERS.externalId);
    if (!externalId) throw missing('the X-EXTERNAL-ID header');
    const partnerId = headerText(inbound, SNAP_HEADERS.partnerId);
    // SNAP's ids are 36 characters at most; longer ones would only be cut to fit the replay record.
    if (externalId.length > SNAP_ID_MAX || partnerId.length > SNAP_ID_MAX)
      throw invalid(`X-EXTERNAL-ID and X-PARTNER-ID must be at most ${SNAP_ID_MAX} characters`);
    if (account.partnerId !== null) {
      if (!partnerId) throw missing('the X-PARTNER-ID header');
      if (!constantTimeEqual(partnerId, account.partnerId))
        throw unauthorized(`SNAP X-PARTNER-ID is not the partner id of account ${account.id}`);
    }
    requireFresh(timestamp, inbound.receivedAt, profile.skewSeconds, timestampText);

    const test = this.signatureTest(inbound, account, service, timestampText, signature);
    const { key } = requireMatch(
      matchCredential([account], inbound.receivedAt, (_account, k) => test(k)),
      inbound.receivedAt,
      'SNAP',
      `SNAP X-SIGNATURE does not verify for account ${account.id} (profile ${profile.name}, family ${profile.family})`,
    );
    const verified: VerifiedCallback = {
      account: account.id,
      key: key.label,
      fields,
      verification: `SNAP ${profile.family} signature (profile ${profile.name}) verified with key ${key.label}; X-TIMESTAMP within ${profile.skewSeconds} s${account.allowlist ? `; source ${inbound.clientIp} allowed` : ''}`,
    };
    servicesOf.set(verified, service);
    return verified;
  }

  /** The family's check of one key (throws 400/401 for what no key could fix). */
  private signatureTest(
    inbound: InboundCallback,
    account: SnapAccount,
    service: SnapServiceName,
    timestamp: string,
    signature: string,
  ): (key: SnapKey) => boolean {
    const { profile } = account;
    const path = signedPathOf(profile, service);
    const hashes = bodyHashes(inbound.rawBody);
    switch (profile.family) {
      case 'rsa-clientkey': {
        const clientKey = headerText(inbound, SNAP_HEADERS.clientKey);
        if (!clientKey) throw missing('the X-CLIENT-KEY header');
        if (!constantTimeEqual(clientKey, account.clientKey ?? ''))
          throw unauthorized(`SNAP X-CLIENT-KEY is not the client key of account ${account.id}`);
        const text = clientKeyStringToSign(clientKey, timestamp);
        return (key) => key.publicKey !== null && rsaVerifies(key.publicKey, text, signature);
      }
      case 'rsa-body':
        return (key) =>
          key.publicKey !== null &&
          hashes.some((hash) =>
            rsaVerifies(key.publicKey!, bodyStringToSign(path, hash, timestamp), signature),
          );
      case 'hmac-notifyurl': {
        const version = headerText(inbound, SNAP_HEADERS.version);
        if (!version) throw missing('the X-VERSION header');
        return hmacTest(hashes, signature, (hash) =>
          notifyUrlStringToSign(path, version, hash, timestamp),
        );
      }
      case 'hmac-token': {
        const authorization = headerText(inbound, 'authorization');
        const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
        if (!token)
          throw unauthorized('SNAP callback carries no Authorization: Bearer access token');
        const problem = tokenProblem(account, token, inbound.receivedAt);
        if (problem) throw unauthorized(`SNAP ${problem}`);
        return hmacTest(hashes, signature, (hash) =>
          tokenStringToSign(path, token, hash, timestamp),
        );
      }
    }
  }

  normalize(_dto: SnapNotificationDto, verified: VerifiedCallback): NormalizedTransaction {
    const account = this.config.providers.snap?.accounts.find((a) => a.id === verified.account);
    if (!account) throw new Error(`SNAP account ${verified.account} is no longer configured`);
    const { transaction, warning } = normalizeSnap(
      verified.fields,
      account.profile,
      servicesOf.get(verified) ?? null,
    );
    if (warning) {
      this.unknownStatuses.inc({
        account: account.id,
        code: transaction.providerStatus.slice(0, 16),
      });
      this.logger.warn(`${warning} (account ${account.id})`);
    }
    return transaction;
  }

  /** The VA payment acknowledgement; the controller answers each service with its own code. */
  ack(): CallbackAck {
    return SNAP_VA_PAYMENT_ACK;
  }
}
