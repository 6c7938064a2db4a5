import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual, sha256Hex } from '../../common/constant-time.js';
import type { StatusApiCredentials } from '../../config/accounts.js';
import { resolveStatus, UnknownStatusError } from '../../sandbox/simulation.js';
import { headerOf, jsonObjectOf, pathOf, sendJson } from '../../sandbox/sandbox-http.js';
import {
  type SandboxCallback,
  SandboxInputError,
  SandboxLedger,
} from '../../sandbox/sandbox-ledger.js';
import type { SandboxContext } from '../../sandbox/sandbox-provider.js';
import {
  MCPAYMENT_API_VERSION,
  MCPAYMENT_EWALLET_INQUIRY_PATH,
  MCPAYMENT_EWALLET_METHODS,
  MCPAYMENT_SIGNATURE_HEADER,
  MCPAYMENT_VA_INQUIRY_PATH,
} from './mcpayment.facts.js';
import { mcpaymentCallbackSignature } from './mcpayment.signature.js';
import {
  MCPAYMENT_STATUSES,
  type McpaymentSettings,
  simulateMcpaymentCallback,
} from './mcpayment.simulator.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { apiCredentialSandboxFor } from '../../sandbox/sandbox-accounts.js';

/** A held MCPayment transaction: the callback body of its current status. */
export type McpaymentSandboxTransaction = Record<string, unknown>;

/** Fields that identify the transaction and stay when its status changes. */
const IDENTITY = ['transaction_id', 'external_id', 'order_id', 'reference_id', 'transaction_time'];

/** The sandbox's error bodies (the schema MCPayment uses for them is not published). */
const error = (code: string, message: string) => ({
  response_code: code,
  response_message: message,
});

/**
 * MCPayment (iFortepay) PG3 as the gateway meets it: signed callbacks for every status, and the
 * VA and e-wallet inquiries, which check Basic auth, x-req-signature and x-version like MCPayment
 * and answer the transaction in the callback's shape.
 */
export class McpaymentSandbox extends SandboxLedger<McpaymentSandboxTransaction> {
  readonly name = 'mcpayment';

  constructor(
    context: SandboxContext,
    /** The one account the sandbox plays (callbacks are simulated for it). */
    private readonly settings: McpaymentSettings,
    /** That account's key and API credentials, which the inquiry routes check. */
    private readonly credentials: Extract<StatusApiCredentials, { provider: 'mcpayment' }>,
  ) {
    super(context);
  }

  private simulate(status: string, reference?: string): McpaymentSandboxTransaction {
    try {
      const request = simulateMcpaymentCallback(this.settings, status, reference);
      return JSON.parse(request.body!) as McpaymentSandboxTransaction;
    } catch (e) {
      if (e instanceof UnknownStatusError) throw new SandboxInputError(e.message);
      throw e;
    }
  }

  protected build(status: string, reference?: string) {
    const transaction = this.simulate(status, reference);
    return { key: transaction.transaction_id as string, transaction };
  }

  protected withStatus(transaction: McpaymentSandboxTransaction, status: string) {
    const next = this.simulate(status, transaction.order_id as string);
    for (const name of IDENTITY) next[name] = transaction[name];
    const details = transaction.payment_details as Record<string, unknown>;
    next.payment_details = {
      ...(next.payment_details as Record<string, unknown>),
      va_number: details.va_number,
      expired_time: details.expired_time,
    };
    return next;
  }

  protected statusOf(transaction: McpaymentSandboxTransaction): string {
    return String(transaction.transaction_status);
  }

  protected callbackOf(transaction: McpaymentSandboxTransaction): SandboxCallback {
    const signature = mcpaymentCallbackSignature(
      this.credentials.hashKey,
      String(transaction.transaction_id),
      String(transaction.external_id),
      String(transaction.order_id),
      this.credentials.subMerchantId,
    );
    return {
      method: 'POST',
      path: '/callbacks/mcpayment',
      headers: { 'content-type': 'application/json', [MCPAYMENT_SIGNATURE_HEADER]: signature },
      body: JSON.stringify(transaction),
    };
  }

  protected fromCallback(callback: SandboxCallback) {
    const transaction = jsonObjectOf(Buffer.from(callback.body ?? ''));
    const id = transaction?.transaction_id;
    if (!transaction || typeof id !== 'string' || !id) {
      throw new SandboxInputError('an MCPayment callback is a JSON object with a transaction_id');
    }
    const expected = mcpaymentCallbackSignature(
      this.credentials.hashKey,
      id,
      String(transaction.external_id),
      String(transaction.order_id),
      this.credentials.subMerchantId,
    );
    if (!constantTimeEqual(callback.headers[MCPAYMENT_SIGNATURE_HEADER] ?? '', expected)) {
      throw new SandboxInputError('mcp-signature does not match the configured hash key');
    }
    resolveStatusOrThrow(String(transaction.transaction_status));
    return { key: id, transaction };
  }

  protected ownsPath(path: string): boolean {
    return path === MCPAYMENT_VA_INQUIRY_PATH || path === MCPAYMENT_EWALLET_INQUIRY_PATH;
  }

  protected handleApi(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    if (req.method !== 'POST') {
      sendJson(res, 405, error('405', 'Method Not Allowed'));
      return true;
    }
    const { merchantId, secretUnboundId } = this.credentials;
    // Basic base64(merchant_id:secret_unbound_id), read as an HTTP server reads Basic credentials.
    const basic = /^basic +([A-Za-z0-9+/]+=*)$/i.exec(headerOf(req, 'authorization').trim());
    const presented = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
    if (!constantTimeEqual(presented, `${merchantId}:${secretUnboundId}`)) {
      sendJson(res, 401, error('401', 'Unauthorized'));
      return true;
    }
    if (headerOf(req, 'x-version') !== MCPAYMENT_API_VERSION) {
      sendJson(res, 400, error('400', `x-version must be ${MCPAYMENT_API_VERSION}`));
      return true;
    }
    const request = jsonObjectOf(body);
    const text = (name: string) =>
      typeof request?.[name] === 'string' ? (request[name] as string) : '';
    if (!request || !text('external_id') || !text('order_id') || !text('transaction_id')) {
      sendJson(res, 400, error('400', 'external_id, order_id and transaction_id are required'));
      return true;
    }
    // x-req-signature = lowercase hex SHA-256(hash_key + external_id + order_id), the hash key as
    // issued (opaque: never decoded).
    const signature = sha256Hex(this.credentials.hashKey + text('external_id') + text('order_id'));
    if (!constantTimeEqual(headerOf(req, 'x-req-signature'), signature)) {
      sendJson(res, 401, error('401', 'Invalid Signature'));
      return true;
    }
    const ewalletRoute = pathOf(req) === MCPAYMENT_EWALLET_INQUIRY_PATH;
    const wanted = ewalletRoute ? 'wallet' : 'BANK_TRANSFER';
    if (text('payment_method') !== wanted) {
      sendJson(res, 400, error('400', `payment_method must be ${wanted} on this route`));
      return true;
    }
    const held = this.get(text('transaction_id'));
    const method = String(held?.transaction.payment_method ?? '').toUpperCase();
    if (
      !held ||
      held.transaction.external_id !== text('external_id') ||
      held.transaction.order_id !== text('order_id') ||
      MCPAYMENT_EWALLET_METHODS.has(method) !== ewalletRoute
    ) {
      sendJson(res, 404, error('404', 'Transaction not found'));
      return true;
    }
    const entry = this.inquired(text('transaction_id'))!;
    sendJson(res, 200, { ...entry.transaction, response_code: '00', response_message: 'Success' });
    return true;
  }
}

function resolveStatusOrThrow(status: string): void {
  try {
    resolveStatus(MCPAYMENT_STATUSES, status);
  } catch (e) {
    throw new SandboxInputError((e as Error).message);
  }
}

/** Played for the first MCPayment account with API credentials. */
export const mcpaymentSandboxFor = (config: GatewayConfig) =>
  apiCredentialSandboxFor(config, 'mcpayment', (...played) => new McpaymentSandbox(...played));
