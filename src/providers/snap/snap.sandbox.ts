import { createPublicKey, type KeyLike, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual, sha256Hex } from '../../common/constant-time.js';
import { headerOf, jsonObjectOf, pathOf, sendJson } from '../../sandbox/sandbox-http.js';
import {
  type CallbackOutcome,
  type HeldTransaction,
  type SandboxCallback,
  SandboxInputError,
  SandboxLedger,
} from '../../sandbox/sandbox-ledger.js';
import type { SandboxContext } from '../../sandbox/sandbox-provider.js';
import {
  SNAP_TOKEN_REQUEST_BODY,
  snapBodyHash,
  snapHmacSign,
  snapRsaVerify,
  snapTokenRequestHeaders,
} from './snap.sandbox-signing.js';
import {
  isSnapService,
  newSnapTransaction,
  type SnapNotificationOptions,
  snapNotification,
  snapNotifies,
  type SnapProviderIdentity,
  type SnapServiceCode,
  snapStatusCode,
  snapTokenPath,
  type SnapTransaction,
  SNAP_SERVICE_PATHS,
} from './snap.simulator.js';

/**
 * The NICEPAY SNAP status API (nicepay-dev SDK documentation): a B2B token for the merchant's RSA
 * signature of `clientKey|X-TIMESTAMP`, then the VA status inquiry signed with HMAC-SHA512.
 */
export const NICEPAY_SNAP_TOKEN_PATH = '/api/v1.0/access-token/b2b';
export const NICEPAY_SNAP_STATUS_PATH = '/api/v1.0/transfer-va/status';
/** NICEPAY issues tokens valid 15 minutes. */
const TOKEN_TTL_SECONDS = 900;
/** How far the merchant's X-TIMESTAMP may be from the sandbox's clock. */
const SKEW_MS = 5 * 60_000;

/** One merchant of the NICEPAY SNAP status API: how NICEPAY knows it. */
export interface SnapStatusApiMerchant {
  /** X-CLIENT-KEY the merchant sends (its iMid). */
  clientKey: string;
  /** X-PARTNER-ID of its inquiries. */
  partnerId: string;
  /** The merchant's RSA public key, registered at NICEPAY: checks its token requests. */
  publicKey: KeyLike;
  /** Checks the HMAC of its inquiries. */
  clientSecret: string;
  /** The gateway account whose transactions it may ask about. */
  account: string;
}

export interface SnapSandboxSettings {
  /** Every account the sandbox notifies as a SNAP provider. */
  providers: SnapProviderIdentity[];
  /** Merchants of the NICEPAY SNAP status API (family A accounts). */
  statusApiMerchants: SnapStatusApiMerchant[];
}

export interface SnapCreateInput {
  status?: string;
  reference?: string;
  send?: boolean;
  /** Gateway account id (default: the first). */
  account?: string;
  /** Service code (default: the account's first). */
  service?: SnapServiceCode;
  amount?: string;
}

/** SNAP's error answer: `responseCode` = HTTP status + service code + case. */
function snapError(res: ServerResponse, status: number, code: string, message: string): true {
  sendJson(res, status, { responseCode: code, responseMessage: message });
  return true;
}

/** The held transaction of a created, updated or resent notification. */
type Notified = HeldTransaction<SnapTransaction> & CallbackOutcome;

/**
 * SNAP providers as the gateway meets them: notifications of the four signature families (family
 * B first obtains a token from the merchant), and NICEPAY's SNAP VA status API over the same
 * ledger, so a notification and the inquiry agree unless a test moves the status in between.
 */
export class SnapSandbox extends SandboxLedger<SnapTransaction> {
  readonly name = 'snap';
  /** What `create` asked for beyond status and reference, which the ledger's `build` is not given. */
  private next: SnapCreateInput = {};
  /** Tokens the gateway issued to us (family B), per account. */
  private readonly merchantTokens = new Map<string, { token: string; until: number }>();
  /** Tokens we issued to merchants (NICEPAY status API). */
  private readonly issuedTokens = new Map<string, { clientKey: string; until: number }>();

  constructor(
    context: SandboxContext,
    private readonly settings: SnapSandboxSettings,
  ) {
    super(context);
  }

  identity(account: string): SnapProviderIdentity {
    const found = this.settings.providers.find((p) => p.account === account);
    if (!found) throw new SandboxInputError(`the SNAP sandbox plays no account ${account}`);
    return found;
  }

  /** Creates a transaction of an account and (by default) sends its notification. */
  override async create(input: SnapCreateInput = {}): Promise<Notified> {
    this.next = input;
    const made = await super.create({ ...input, send: false });
    return { ...made, ...(await this.deliver(made.key, input.send ?? true)) };
  }

  override async update(key: string, input: { status: string; send?: boolean }): Promise<Notified> {
    const changed = await super.update(key, { ...input, send: false });
    return { ...changed, ...(await this.deliver(key, input.send ?? true)) };
  }

  override async resend(key: string): Promise<CallbackOutcome> {
    return this.deliver(key, true);
  }

  /**
   * The notification of a held transaction, with variants (pretty body, spaces, escapes, another
   * signed path, another key…): tests send it themselves with `send`.
   */
  async notification(key: string, options: SnapNotificationOptions = {}): Promise<SandboxCallback> {
    const entry = this.get(key);
    if (!entry) throw new SandboxInputError(`snap holds no transaction ${key}`);
    const identity = this.identity(entry.transaction.account);
    const accessToken =
      identity.family === 'hmac-token'
        ? (options.accessToken ?? (await this.merchantToken(identity)))
        : undefined;
    return snapNotification(identity, entry.transaction, this.context.gatewayUrl, {
      ...options,
      accessToken,
    });
  }

  /** Sends a request as the provider; resolves with the gateway's status. */
  send(callback: SandboxCallback): Promise<number> {
    return this.context.sendCallback(callback);
  }

  /** Asks the gateway for a fresh access token (family B); returns the gateway's answer. */
  async requestToken(
    account: string,
    options: { privateKey?: KeyLike; timestamp?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> | null }> {
    const identity = this.identity(account);
    const privateKey = options.privateKey ?? identity.privateKey;
    if (!privateKey) throw new Error(`SNAP account ${account} has no private key`);
    const response = await fetch(`${this.context.gatewayUrl}${snapTokenPath(account)}`, {
      method: 'POST',
      headers: snapTokenRequestHeaders(identity.clientKey, privateKey, options.timestamp),
      body: SNAP_TOKEN_REQUEST_BODY,
      signal: AbortSignal.timeout(10_000),
    });
    const body = jsonObjectOf(Buffer.from(await response.arrayBuffer()));
    return { status: response.status, body };
  }

  /** The token the gateway issued us, asked again once it is within a minute of expiring. */
  private async merchantToken(identity: SnapProviderIdentity): Promise<string> {
    const held = this.merchantTokens.get(identity.account);
    if (held && held.until > Date.now() + 60_000) return held.token;
    const { status, body } = await this.requestToken(identity.account);
    const token = body?.accessToken;
    if (status !== 200 || typeof token !== 'string' || token === '') {
      throw new Error(
        `the gateway refused the SNAP access token of ${identity.account}: ${status} ${JSON.stringify(body)}`,
      );
    }
    const seconds = Number(body?.expiresIn ?? TOKEN_TTL_SECONDS);
    this.merchantTokens.set(identity.account, {
      token,
      until: Date.now() + (Number.isFinite(seconds) ? seconds : TOKEN_TTL_SECONDS) * 1000,
    });
    return token;
  }

  /** Forgets the token the gateway issued (the next notification asks for a new one). */
  forgetToken(account: string): void {
    this.merchantTokens.delete(account);
  }

  private async deliver(key: string, send: boolean): Promise<CallbackOutcome> {
    const entry = this.get(key)!;
    if (!snapNotifies(entry.transaction)) return { gatewayStatus: null, callback: null };
    const callback = await this.notification(key);
    if (!send) return { gatewayStatus: null, callback };
    return { gatewayStatus: await this.send(callback), callback };
  }

  protected build(status: string, reference?: string) {
    const input = this.next;
    this.next = {};
    const account = input.account ?? this.settings.providers[0]?.account;
    if (!account) throw new SandboxInputError('the SNAP sandbox plays no account');
    const identity = this.identity(account);
    if (input.service !== undefined && !identity.services.includes(input.service)) {
      throw new SandboxInputError(
        `SNAP account ${account} does not send service ${input.service} (it sends ${identity.services.join(', ')})`,
      );
    }
    let transaction: SnapTransaction;
    try {
      transaction = newSnapTransaction(identity, {
        service: input.service,
        status,
        reference,
        amount: input.amount,
      });
    } catch (error) {
      throw new SandboxInputError((error as Error).message);
    }
    return { key: transaction.providerReference, transaction };
  }

  protected withStatus(transaction: SnapTransaction, status: string): SnapTransaction {
    const table = this.identity(transaction.account).statusTable;
    const code = snapStatusCode(table, status);
    if (code === null) {
      throw new SandboxInputError(
        `SNAP account ${transaction.account} has no status ${JSON.stringify(status)}: expected one of ${Object.keys(table).join(', ')} or ${[...new Set(Object.values(table))].join(', ')}`,
      );
    }
    return { ...transaction, status: code };
  }

  protected statusOf(transaction: SnapTransaction): string {
    return transaction.status;
  }

  /** Notifications need a token (family B) or are sent with variants: see `deliver`. */
  protected callbackOf(): SandboxCallback | null {
    return null;
  }

  /**
   * Holds the transaction a notification built elsewhere (the simulate CLI, Swagger's examples)
   * describes, after checking it is ours: the path names one of our accounts and, for the
   * families whose key the sandbox holds alone (A, C), the signature is ours.
   */
  protected fromCallback(callback: SandboxCallback) {
    const match = /^\/callbacks\/snap\/([^/]+)(\/v1\.0\/.+?)(?:\?.*)?$/.exec(callback.path);
    if (!match)
      throw new SandboxInputError('a SNAP notification goes to /callbacks/snap/<account>/v1.0/…');
    const account = decodeURIComponent(match[1]);
    const identity = this.identity(account);
    const service = (Object.keys(SNAP_SERVICE_PATHS) as SnapServiceCode[]).find(
      (code) => SNAP_SERVICE_PATHS[code] === match[2],
    );
    if (!service) throw new SandboxInputError(`${match[2]} is not a SNAP notification service`);
    const body = jsonObjectOf(Buffer.from(callback.body ?? '', 'utf8'));
    if (!body) throw new SandboxInputError('a SNAP notification body is a JSON object');
    if (identity.family === 'rsa-clientkey' && identity.privateKey) {
      const timestamp = callback.headers['x-timestamp'] ?? '';
      const signed = snapRsaVerify(
        createPublicKey(identity.privateKey),
        `${identity.clientKey}|${timestamp}`,
        callback.headers['x-signature'] ?? '',
      );
      if (!signed) throw new SandboxInputError(`the X-SIGNATURE is not ${account}'s provider's`);
    }
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const money = (body.paidAmount ?? body.amount) as
      { value?: unknown; currency?: unknown } | undefined;
    const va = isSnapService(service) && (service === '25' || service === '34');
    const additional = (body.additionalInfo ?? {}) as Record<string, unknown>;
    const providerReference = va
      ? text(additional.tXidVA) || text(body.paymentRequestId)
      : text(body.originalReferenceNo);
    const reference = va ? text(body.trxId) : text(body.originalPartnerReferenceNo);
    if (!providerReference || !reference || !money || typeof money.value !== 'string')
      throw new SandboxInputError(
        'a SNAP notification needs the merchant reference, the provider reference and the amount',
      );
    const transaction: SnapTransaction = {
      account,
      service,
      reference,
      providerReference,
      partnerServiceId: text(body.partnerServiceId),
      customerNo: text(body.customerNo),
      customerName: text(body.virtualAccountName) || 'Budi Santoso',
      amount: money.value,
      currency: text(money.currency) || 'IDR',
      trxDateTime: text(body.trxDateTime) || text(callback.headers['x-timestamp']),
      status: va ? '00' : text(body.latestTransactionStatus) || '00',
    };
    return { key: providerReference, transaction };
  }

  override async handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<boolean> {
    // The control route that creates takes an account and a service too (the ledger's does not).
    if (pathOf(req) === '/sandbox/snap/transactions' && req.method === 'POST') {
      const input = jsonObjectOf(body);
      if (!input) return snapControlError(res, 'the body must be a JSON object');
      const text = (name: string) =>
        typeof input[name] === 'string' ? (input[name] as string) : undefined;
      const service = text('service');
      if (service !== undefined && !isSnapService(service))
        return snapControlError(
          res,
          `service must be one of ${Object.keys(SNAP_SERVICE_PATHS).join(', ')}`,
        );
      try {
        const created = await this.create({
          status: text('status'),
          reference: text('reference'),
          account: text('account'),
          service,
          amount: text('amount'),
          send: input.send === undefined ? undefined : input.send === true,
        });
        sendJson(res, 201, {
          key: created.key,
          status: created.transaction.status,
          transaction: created.transaction,
          callback: created.callback,
          gatewayStatus: created.gatewayStatus,
        });
      } catch (error) {
        if (!(error instanceof SandboxInputError)) throw error;
        sendJson(res, 400, { message: error.message });
      }
      return true;
    }
    return super.handle(req, body, res);
  }

  protected ownsPath(path: string): boolean {
    return (
      this.settings.statusApiMerchants.length > 0 &&
      (path === NICEPAY_SNAP_TOKEN_PATH || path === NICEPAY_SNAP_STATUS_PATH)
    );
  }

  protected handleApi(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    if (req.method !== 'POST') return snapError(res, 405, '4050000', 'Method Not Allowed');
    return pathOf(req) === NICEPAY_SNAP_TOKEN_PATH
      ? this.issueToken(req, body, res)
      : this.vaStatus(req, body, res);
  }

  /**
   * Refuses an X-TIMESTAMP that is not ISO 8601 with an offset (400 `400<service>01`) or is
   * outside the skew (401 `401<service>00`); false when it is fine.
   */
  private badTimestamp(res: ServerResponse, value: string, service: string): boolean {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?([+-]\d\d:\d\d|Z)$/.test(value))
      return snapError(res, 400, `400${service}01`, 'Invalid Field Format [X-TIMESTAMP]');
    const at = Date.parse(value);
    if (!Number.isFinite(at) || Math.abs(Date.now() - at) > SKEW_MS)
      return snapError(
        res,
        401,
        `401${service}00`,
        'Unauthorized. [X-TIMESTAMP outside the allowed skew]',
      );
    return false;
  }

  /** POST /api/v1.0/access-token/b2b: the merchant proves its key, NICEPAY issues a token. */
  private issueToken(req: IncomingMessage, body: Buffer, res: ServerResponse): true {
    const clientKey = headerOf(req, 'x-client-key');
    const timestamp = headerOf(req, 'x-timestamp');
    const signature = headerOf(req, 'x-signature');
    for (const [name, value] of [
      ['X-CLIENT-KEY', clientKey],
      ['X-TIMESTAMP', timestamp],
      ['X-SIGNATURE', signature],
    ]) {
      if (!value) return snapError(res, 400, '4007302', `Invalid Mandatory Field [${name}]`);
    }
    const request = jsonObjectOf(body);
    if (request?.grantType !== 'client_credentials')
      return snapError(res, 400, '4007301', 'Invalid Field Format [grantType]');
    if (this.badTimestamp(res, timestamp, '73')) return true;
    const merchant = this.settings.statusApiMerchants.find((m) => m.clientKey === clientKey);
    if (!merchant) return snapError(res, 401, '4017300', 'Unauthorized. [Unknown client]');
    if (!snapRsaVerify(merchant.publicKey, `${clientKey}|${timestamp}`, signature))
      return snapError(res, 401, '4017300', 'Unauthorized. [Signature]');
    const token = randomBytes(32).toString('base64url');
    this.issuedTokens.set(token, { clientKey, until: Date.now() + TOKEN_TTL_SECONDS * 1000 });
    sendJson(res, 200, {
      responseCode: '2007300',
      responseMessage: 'Successful',
      accessToken: token,
      tokenType: 'Bearer',
      expiresIn: String(TOKEN_TTL_SECONDS),
    });
    return true;
  }

  /** Lets a test expire every token NICEPAY issued (the next inquiry must ask for a new one). */
  expireIssuedTokens(): void {
    for (const entry of this.issuedTokens.values()) entry.until = 0;
  }

  /** POST /api/v1.0/transfer-va/status: authenticated like NICEPAY, answered from the ledger. */
  private vaStatus(req: IncomingMessage, body: Buffer, res: ServerResponse): true {
    const authorization = headerOf(req, 'authorization');
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? '';
    const issued = token ? this.issuedTokens.get(token) : undefined;
    if (!issued || issued.until <= Date.now())
      return snapError(res, 401, '4012601', 'Invalid Token (B2B)');
    const merchant = this.settings.statusApiMerchants.find(
      (m) => m.clientKey === issued.clientKey,
    )!;
    const timestamp = headerOf(req, 'x-timestamp');
    const externalId = headerOf(req, 'x-external-id');
    for (const [name, value] of [
      ['X-TIMESTAMP', timestamp],
      ['X-SIGNATURE', headerOf(req, 'x-signature')],
      ['X-PARTNER-ID', headerOf(req, 'x-partner-id')],
      ['X-EXTERNAL-ID', externalId],
    ]) {
      if (!value) return snapError(res, 400, '4002602', `Invalid Mandatory Field [${name}]`);
    }
    if (headerOf(req, 'x-partner-id') !== merchant.partnerId)
      return snapError(res, 401, '4012600', 'Unauthorized. [X-PARTNER-ID]');
    if (this.badTimestamp(res, timestamp, '26')) return true;
    // The body hash of what was received, and of its minified form (a client may send either).
    const raw = body.toString('utf8');
    const signatureOf = (hash: string) =>
      snapHmacSign(
        merchant.clientSecret,
        `POST:${NICEPAY_SNAP_STATUS_PATH}:${token}:${hash}:${timestamp}`,
      );
    const signature = headerOf(req, 'x-signature');
    const rawHash = sha256Hex(raw);
    if (
      !constantTimeEqual(signature, signatureOf(rawHash)) &&
      !constantTimeEqual(signature, signatureOf(snapBodyHash(raw)))
    )
      return snapError(res, 401, '4012600', 'Unauthorized. [Signature]');
    const request = jsonObjectOf(body);
    if (!request) return snapError(res, 400, '4002601', 'Invalid Field Format [body]');
    const additional =
      typeof request.additionalInfo === 'object' && request.additionalInfo
        ? (request.additionalInfo as Record<string, unknown>)
        : {};
    const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
    const tXidVA = text(additional.tXidVA) || text(request.tXidVA);
    const trxId = text(additional.trxId) || text(request.trxId);
    const virtualAccountNo = text(request.virtualAccountNo);
    if (!tXidVA && !trxId && !virtualAccountNo)
      return snapError(res, 400, '4002602', 'Invalid Mandatory Field [virtualAccountNo]');
    const candidate = this.list().find(({ transaction: tx }) => {
      if (tx.account !== merchant.account) return false;
      if (tXidVA && tx.providerReference !== tXidVA) return false;
      if (trxId && tx.reference !== trxId) return false;
      if (virtualAccountNo && `${tx.partnerServiceId}${tx.customerNo}`.trim() !== virtualAccountNo)
        return false;
      return true;
    });
    if (!candidate) return snapError(res, 404, '4042601', 'Transaction Not Found');
    const entry = this.inquired(candidate.key)!;
    const tx = entry.transaction;
    const money = { value: tx.amount, currency: tx.currency };
    const paid = tx.status === '00';
    sendJson(res, 200, {
      responseCode: '2002600',
      responseMessage: 'Successful',
      virtualAccountData: {
        partnerServiceId: tx.partnerServiceId,
        customerNo: tx.customerNo,
        virtualAccountNo: `${tx.partnerServiceId}${tx.customerNo}`,
        inquiryRequestId: text(request.inquiryRequestId) || externalId,
        paymentRequestId: tx.providerReference,
        trxId: tx.reference,
        paidAmount: paid ? money : { value: '0.00', currency: tx.currency },
        totalAmount: money,
        trxDateTime: tx.trxDateTime,
        transactionDate: paid ? tx.trxDateTime : '',
        paymentFlagStatus: paid ? '00' : '01',
        additionalInfo: {
          tXidVA: tx.providerReference,
          trxId: tx.reference,
          totalAmount: money,
          latestTransactionStatus: tx.status,
          transactionStatusDesc: STATUS_DESCRIPTION[tx.status] ?? 'Unknown',
        },
      },
    });
    return true;
  }
}

/** NICEPAY's words for its latestTransactionStatus codes. */
const STATUS_DESCRIPTION: Record<string, string> = {
  '00': 'Success',
  '03': 'Pending',
  '04': 'Expired',
};

function snapControlError(res: ServerResponse, message: string): true {
  sendJson(res, 400, { message });
  return true;
}
