import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual } from '../../common/constant-time.js';
import type { StatusApiCredentials } from '../../config/accounts.js';
import { resolveStatus, UnknownStatusError } from '../../dev/simulation.js';
import { headerOf, jsonObjectOf, pathOf, sendJson } from '../../sandbox/sandbox-http.js';
import {
  type SandboxCallback,
  SandboxInputError,
  SandboxLedger,
} from '../../sandbox/sandbox-ledger.js';
import type { SandboxContext } from '../../sandbox/sandbox-provider.js';
import {
  decryptS88payKey,
  encryptS88payKey,
  parseS88payPlaintext,
  S88payDecryptionError,
} from './s88pay.crypto.js';
import { s88payStatusPath } from './s88pay.facts.js';
import {
  S88PAY_STATUSES,
  type S88paySettings,
  simulateS88payCallback,
} from './s88pay.simulator.js';

/** A held S88Pay transaction: the (decrypted) callback payload of its current status. */
export type S88paySandboxTransaction = Record<string, unknown>;

/** Callback `transaction_status` → the status API's word. */
const API_WORD: Record<string, string> = {
  '1': 'pending',
  '2': 'completed',
  '3': 'failed',
  '4': 'pending',
  pending: 'pending',
  completed: 'completed',
  success: 'completed',
  failed: 'failed',
};

const STATUS_ROUTE = /^\/api\/v1\/([^/]+)\/transactions\/status$/;

/**
 * S88Pay as the gateway meets it: AES-256-CBC encrypted callbacks, and the transaction status
 * API, which checks the merchant code and the encrypted `merchant_api_key` like S88Pay and
 * answers `{ success, message, data: [ … ] }` with nulls as the string "null".
 */
export class S88paySandbox extends SandboxLedger<S88paySandboxTransaction> {
  readonly name = 's88pay';

  constructor(
    context: SandboxContext,
    /** The one account the sandbox plays (callbacks are simulated for it). */
    private readonly settings: S88paySettings,
    /** That account's keys and merchant code, which the status route checks. */
    private readonly credentials: Extract<StatusApiCredentials, { provider: 's88pay' }>,
  ) {
    super(context);
  }

  private statusValue(status: string): string {
    try {
      return resolveStatus(S88PAY_STATUSES, status).providerStatus;
    } catch (e) {
      if (e instanceof UnknownStatusError) throw new SandboxInputError(e.message);
      throw e;
    }
  }

  protected build(status: string, reference?: string) {
    const request = simulateS88payCallback(this.settings, this.statusValue(status), reference);
    const { key } = JSON.parse(request.body!) as { key: string };
    const transaction = parseS88payPlaintext(decryptS88payKey(key, this.credentials));
    transaction.merchant_code = this.credentials.merchantCode;
    return { key: String(transaction.transaction_code), transaction };
  }

  protected withStatus(transaction: S88paySandboxTransaction, status: string) {
    const value = this.statusValue(status);
    return {
      ...transaction,
      transaction_status: /^\d+$/.test(value) ? Number(value) : value,
      transaction_timestamp: Math.floor(Date.now() / 1000),
    };
  }

  protected statusOf(transaction: S88paySandboxTransaction): string {
    return String(transaction.transaction_status);
  }

  protected callbackOf(transaction: S88paySandboxTransaction): SandboxCallback {
    return {
      method: 'POST',
      path: '/callbacks/s88pay',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        key: encryptS88payKey(JSON.stringify(transaction), this.credentials),
        transaction_code: transaction.transaction_code,
        transaction_no: transaction.transaction_no,
      }),
    };
  }

  protected fromCallback(callback: SandboxCallback) {
    const body = jsonObjectOf(Buffer.from(callback.body ?? ''));
    if (!body || typeof body.key !== 'string') {
      throw new SandboxInputError('an S88Pay callback is a JSON object with a key');
    }
    let transaction: Record<string, unknown>;
    try {
      transaction = parseS88payPlaintext(decryptS88payKey(body.key, this.credentials));
    } catch (e) {
      if (e instanceof S88payDecryptionError) {
        throw new SandboxInputError('key does not decrypt with the configured credentials');
      }
      throw e;
    }
    if (typeof transaction.transaction_code !== 'string') {
      throw new SandboxInputError('the payload carries no transaction_code');
    }
    return { key: transaction.transaction_code, transaction };
  }

  protected ownsPath(path: string): boolean {
    return STATUS_ROUTE.test(path);
  }

  protected handleApi(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    const refuse = (status: number, message: string) =>
      sendJson(res, status, { success: false, message, data: [] });
    const merchantCode = decodeURIComponent(STATUS_ROUTE.exec(pathOf(req))![1]);
    if (req.method !== 'POST') {
      refuse(405, 'Method not allowed');
      return true;
    }
    if (pathOf(req) !== s88payStatusPath(this.credentials.merchantCode)) {
      refuse(401, `Unknown merchant ${merchantCode}`);
      return true;
    }
    if (!headerOf(req, 'content-type').startsWith('application/x-www-form-urlencoded')) {
      refuse(400, 'The body must be application/x-www-form-urlencoded');
      return true;
    }
    const key = new URLSearchParams(body.toString('utf8')).get('key');
    if (!key) {
      refuse(400, 'key is required');
      return true;
    }
    let fields: Record<string, unknown>;
    try {
      fields = parseS88payPlaintext(decryptS88payKey(key, this.credentials));
    } catch (e) {
      if (!(e instanceof S88payDecryptionError)) throw e;
      refuse(401, 'Invalid key');
      return true;
    }
    if (
      typeof fields.merchant_api_key !== 'string' ||
      !constantTimeEqual(fields.merchant_api_key, this.credentials.apiKey)
    ) {
      refuse(401, 'Invalid merchant_api_key');
      return true;
    }
    const code = typeof fields.transaction_code === 'string' ? fields.transaction_code : '';
    if (!code) {
      refuse(400, 'transaction_code is required');
      return true;
    }
    const entry = this.get(code) && this.inquired(code);
    if (!entry) {
      sendJson(res, 200, { success: false, message: 'Transaction not found', data: [] });
      return true;
    }
    const tx = entry.transaction;
    const shown = (value: unknown) =>
      value === undefined || value === null || value === '' ? 'null' : String(value);
    sendJson(res, 200, {
      success: true,
      message: 'Success',
      data: [
        {
          transaction_code: tx.transaction_code,
          transaction_no: tx.transaction_no,
          status:
            API_WORD[String(tx.transaction_status).toLowerCase()] ?? String(tx.transaction_status),
          amount: shown(tx.transaction_amount),
          currency_code: shown(tx.currency_code),
          transaction_fee: shown(tx.transaction_fee),
          type: String(tx.transaction_no).startsWith('WD') ? 'withdraw' : 'deposit',
          payment_code: shown(tx.payment_code),
          transaction_ref: shown(tx.transaction_ref),
          datetime: new Date(Number(tx.transaction_timestamp) * 1000).toISOString(),
        },
      ],
    });
    return true;
  }
}
