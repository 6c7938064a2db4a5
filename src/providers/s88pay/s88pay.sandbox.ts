import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual } from '../../common/constant-time.js';
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
  decryptS88payKey,
  encryptS88payKey,
  parseS88payPlaintext,
  S88payDecryptionError,
} from './s88pay.crypto.js';
import { S88PAY_API_CREDENTIAL_REFUSALS, s88payStatusPath } from './s88pay.facts.js';
import {
  S88PAY_STATUSES,
  type S88paySettings,
  simulateS88payCallback,
} from './s88pay.simulator.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { apiCredentialSandboxFor } from '../../sandbox/sandbox-accounts.js';

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

/** The credential refusal S88Pay answers with HTTP 200: `{ success: false, code: 115, … }`. */
const CREDENTIAL_REFUSAL = Number(Object.keys(S88PAY_API_CREDENTIAL_REFUSALS)[0]);

/** `currency_name` of the documented answer, for the currencies the sandbox is asked about. */
const CURRENCY_NAME: Record<string, string> = {
  IDR: 'Indonesian Rupiah',
  INR: 'Indian Rupee',
  BDT: 'Bangladeshi Taka',
  VND: 'Vietnamese Dong',
  THB: 'Thai Baht',
  MYR: 'Malaysian Ringgit',
  PHP: 'Philippine Peso',
};

/**
 * The decrypted parameters of a status request, as S88Pay reads them: a JSON object, or the
 * documented `merchant_api_key=…&transaction_code=…` text, split on `&` and each pair on its first
 * `=`. The api key is compared exactly as it stands there — never percent-decoded, `+` never a
 * space (PROVIDERS.md: the key may contain `%3D`). Other values are %XX-decoded (`+` kept), our
 * reading for codes that need escaping. Null when the text is neither (or names a field twice).
 */
export function s88payStatusRequestFields(plaintext: string): Record<string, string> | null {
  const text = plaintext.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return null;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return null;
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(json)) {
      if (typeof value === 'string') fields[name] = value;
      else if (typeof value === 'number' && Number.isFinite(value)) fields[name] = String(value);
    }
    return fields;
  }
  const fields = new Map<string, string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) return null;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (fields.has(name)) return null;
    if (name === 'merchant_api_key') {
      fields.set(name, value);
      continue;
    }
    try {
      fields.set(name, decodeURIComponent(value));
    } catch {
      return null;
    }
  }
  return fields.size > 0 ? Object.fromEntries(fields) : null;
}

/** An amount of the held payload as the documented answer's JSON number, else "null". */
function numberOrNull(value: unknown): number | string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  return /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : 'null';
}

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

  /**
   * `POST /api/v1/{merchant_code}/transactions/status`, form `key=`: a wrong merchant code, a key
   * that does not decrypt with the merchant's keys, or another merchant_api_key is S88Pay's
   * credential refusal (HTTP 200, `success: false`, code 115); an unknown transaction is
   * `success: false` with an empty list; a known one is the documented `data[]` entry.
   */
  protected handleApi(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean {
    const fail = (status: number, message: string) =>
      sendJson(res, status, { success: false, message, data: [] });
    const refuse = (message: string) =>
      sendJson(res, 200, { success: false, code: CREDENTIAL_REFUSAL, message, data: [] });
    const merchantCode = decodeURIComponent(STATUS_ROUTE.exec(pathOf(req))![1]);
    if (req.method !== 'POST') {
      fail(405, 'Method not allowed');
      return true;
    }
    if (pathOf(req) !== s88payStatusPath(this.credentials.merchantCode)) {
      refuse(`Unknown merchant ${merchantCode}`);
      return true;
    }
    if (!headerOf(req, 'content-type').startsWith('application/x-www-form-urlencoded')) {
      fail(400, 'The body must be application/x-www-form-urlencoded');
      return true;
    }
    const key = new URLSearchParams(body.toString('utf8')).get('key');
    if (!key) {
      fail(400, 'key is required');
      return true;
    }
    let fields: Record<string, string> | null;
    try {
      fields = s88payStatusRequestFields(decryptS88payKey(key, this.credentials));
    } catch (e) {
      if (!(e instanceof S88payDecryptionError)) throw e;
      refuse('Invalid key');
      return true;
    }
    if (
      !fields ||
      fields.merchant_api_key === undefined ||
      !constantTimeEqual(fields.merchant_api_key, this.credentials.apiKey)
    ) {
      refuse('Invalid merchant_api_key');
      return true;
    }
    const code = fields.transaction_code ?? '';
    if (!code) {
      fail(400, 'transaction_code is required');
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
    const currency = shown(tx.currency_code).toUpperCase();
    const timestamp = Number(tx.transaction_timestamp);
    sendJson(res, 200, {
      success: true,
      message: 'Request transaction list successful',
      data: [
        {
          amount: numberOrNull(tx.transaction_amount),
          currency_code: shown(tx.currency_code),
          currency_name: CURRENCY_NAME[currency] ?? 'null',
          datetime: Number.isFinite(timestamp)
            ? new Date(timestamp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
            : 'null',
          method_name: shown(tx.payment_code),
          note: 'null',
          status:
            API_WORD[String(tx.transaction_status).toLowerCase()] ?? String(tx.transaction_status),
          transaction_code: tx.transaction_code,
          transaction_fee: numberOrNull(tx.transaction_fee),
          transaction_no: shown(tx.transaction_no),
          transaction_ref: shown(tx.transaction_ref),
          transaction_ref2: 'null',
          type: String(tx.transaction_no).startsWith('WD') ? 'withdraw' : 'deposit',
        },
      ],
    });
    return true;
  }
}

/** Played for the first S88Pay account with API credentials. */
export const s88paySandboxFor = (config: GatewayConfig) =>
  apiCredentialSandboxFor(config, 's88pay', (...played) => new S88paySandbox(...played));
