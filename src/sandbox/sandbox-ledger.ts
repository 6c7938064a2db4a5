import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonObjectOf, pathOf, sendJson } from './sandbox-http.js';
import type { SandboxContext, SandboxProvider } from './sandbox-provider.js';

/** A callback as a provider sends it (what the simulate CLI registers, what the sandbox sends). */
export interface SandboxCallback {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** A control request the sandbox cannot act on: answered 400 with the message. */
export class SandboxInputError extends Error {}

export interface HeldTransaction<Tx> {
  key: string;
  transaction: Tx;
  /** Status API requests that reached this transaction (authenticated and matched). */
  inquiries: number;
}

export interface CallbackOutcome {
  /** The gateway's HTTP status, or null when the status is not one this provider notifies. */
  gatewayStatus: number | null;
  callback: SandboxCallback | null;
}

/**
 * What every sandbox provider shares: the transactions it holds, a control API under
 * `/sandbox/<name>/…` (create a transaction, change its status, register a callback sent by
 * someone else, list) and the same operations as methods for tests in the same process. The
 * provider's own API routes are the subclass's `handleApi`.
 *
 *   GET  /sandbox/<name>/transactions           every held transaction
 *   POST /sandbox/<name>/transactions           { status?, reference?, send? } → created (+ callback sent)
 *   GET  /sandbox/<name>/transactions/<key>     one
 *   POST /sandbox/<name>/transactions/<key>     { status, send? } → status changed (+ callback sent)
 *   POST /sandbox/<name>/callbacks              { method, path, headers, body } → the transaction it describes is held
 */
export abstract class SandboxLedger<Tx> implements SandboxProvider {
  abstract readonly name: string;
  private readonly held = new Map<string, HeldTransaction<Tx>>();
  /** While true the provider's API answers HTTP 503 (an outage). */
  down = false;

  constructor(protected readonly context: SandboxContext) {}

  /** A new transaction in `status` (provider word or normalized status). */
  protected abstract build(status: string, reference?: string): { key: string; transaction: Tx };
  /** The transaction moved to `status`; throws SandboxInputError for a status it cannot have. */
  protected abstract withStatus(transaction: Tx, status: string): Tx;
  /** The callback the provider sends for the transaction's current status; null if it sends none. */
  protected abstract callbackOf(transaction: Tx): SandboxCallback | null;
  /** The transaction a callback describes; throws SandboxInputError when it is not one of ours. */
  protected abstract fromCallback(callback: SandboxCallback): { key: string; transaction: Tx };
  /** The provider's status value, for listings. */
  protected abstract statusOf(transaction: Tx): string;
  /** Whether the path is one of the provider's API routes. */
  protected abstract ownsPath(path: string): boolean;
  /** Answers one of the provider's API routes. */
  protected abstract handleApi(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
  ): boolean | Promise<boolean>;

  /** Creates a transaction and (by default) sends its callback to the gateway. */
  async create(
    input: { status?: string; reference?: string; send?: boolean } = {},
  ): Promise<HeldTransaction<Tx> & CallbackOutcome> {
    const { key, transaction } = this.build(input.status ?? 'succeeded', input.reference);
    const entry = { key, transaction, inquiries: 0 };
    this.held.set(key, entry);
    return { ...entry, ...(await this.notify(entry, input.send ?? true)) };
  }

  /** Moves a held transaction to another status and (by default) sends its callback. */
  async update(
    key: string,
    input: { status: string; send?: boolean },
  ): Promise<HeldTransaction<Tx> & CallbackOutcome> {
    const entry = this.held.get(key);
    if (!entry) throw new SandboxInputError(`${this.name} holds no transaction ${key}`);
    entry.transaction = this.withStatus(entry.transaction, input.status);
    return { ...entry, ...(await this.notify(entry, input.send ?? true)) };
  }

  /** Holds the transaction a callback (built and sent elsewhere) describes. */
  register(callback: SandboxCallback): HeldTransaction<Tx> {
    const { key, transaction } = this.fromCallback(callback);
    const entry = { key, transaction, inquiries: this.held.get(key)?.inquiries ?? 0 };
    this.held.set(key, entry);
    return entry;
  }

  /** Sends the callback of the transaction's current status again (a provider retry). */
  async resend(key: string): Promise<CallbackOutcome> {
    const entry = this.held.get(key);
    if (!entry) throw new SandboxInputError(`${this.name} holds no transaction ${key}`);
    return this.notify(entry, true);
  }

  get(key: string): HeldTransaction<Tx> | undefined {
    return this.held.get(key);
  }

  list(): Array<HeldTransaction<Tx>> {
    return [...this.held.values()];
  }

  /** Every status API request answered about a held transaction. */
  totalInquiries(): number {
    return this.list().reduce((sum, entry) => sum + entry.inquiries, 0);
  }

  /** The held transaction the API is asked about; counts the inquiry. */
  protected inquired(key: string): HeldTransaction<Tx> | undefined {
    const entry = this.held.get(key);
    if (entry) entry.inquiries += 1;
    return entry;
  }

  private async notify(entry: HeldTransaction<Tx>, send: boolean): Promise<CallbackOutcome> {
    const callback = this.callbackOf(entry.transaction);
    if (!send || !callback) return { gatewayStatus: null, callback };
    return { gatewayStatus: await this.context.sendCallback(callback), callback };
  }

  async handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<boolean> {
    const path = pathOf(req);
    const control = `/sandbox/${this.name}/`;
    if (!path.startsWith(control)) {
      if (!this.ownsPath(path)) return false;
      if (!this.down) return this.handleApi(req, body, res);
      sendJson(res, 503, { message: `${this.name} sandbox is down (outage simulated)` });
      return true;
    }
    try {
      await this.control(req.method ?? 'GET', path.slice(control.length), body, res);
    } catch (error) {
      if (!(error instanceof SandboxInputError)) throw error;
      sendJson(res, 400, { message: error.message });
    }
    return true;
  }

  private async control(method: string, rest: string, body: Buffer, res: ServerResponse) {
    const input = method === 'POST' ? jsonObjectOf(body) : {};
    if (!input) throw new SandboxInputError('the body must be a JSON object');
    const text = (name: string) => {
      const value = input[name];
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw new SandboxInputError(`${name} must be a string`);
      return value;
    };
    const send = input.send === undefined ? undefined : input.send === true;
    const view = (entry: HeldTransaction<Tx>) => ({
      key: entry.key,
      status: this.statusOf(entry.transaction),
      inquiries: entry.inquiries,
      transaction: entry.transaction,
    });
    const outcome = (result: HeldTransaction<Tx> & CallbackOutcome) => ({
      ...view(result),
      callback: result.callback,
      gatewayStatus: result.gatewayStatus,
    });
    const [collection, key, ...extra] = rest.split('/').map(decodeURIComponent);
    if (collection === 'transactions' && key === undefined && extra.length === 0) {
      if (method === 'GET') return sendJson(res, 200, this.list().map(view));
      if (method === 'POST') {
        const created = await this.create({
          status: text('status'),
          reference: text('reference'),
          send,
        });
        return sendJson(res, 201, outcome(created));
      }
    }
    if (collection === 'transactions' && key && extra.length === 0) {
      if (method === 'GET') {
        const entry = this.get(key);
        return entry
          ? sendJson(res, 200, view(entry))
          : sendJson(res, 404, { message: `${this.name} holds no transaction ${key}` });
      }
      if (method === 'POST') {
        const status = text('status');
        if (!status) throw new SandboxInputError('status is required');
        return sendJson(res, 200, outcome(await this.update(key, { status, send })));
      }
    }
    if (collection === 'callbacks' && key === undefined && method === 'POST') {
      const headers = input.headers ?? {};
      if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
        throw new SandboxInputError('headers must be an object');
      const callbackMethod = text('method') ?? 'POST';
      if (callbackMethod !== 'GET' && callbackMethod !== 'POST')
        throw new SandboxInputError('method must be GET or POST');
      const entry = this.register({
        method: callbackMethod,
        path: text('path') ?? '',
        headers: Object.fromEntries(
          Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]),
        ),
        body: text('body'),
      });
      return sendJson(res, 201, view(entry));
    }
    sendJson(res, 404, {
      message: `no sandbox control route ${method} /sandbox/${this.name}/${rest}`,
    });
  }
}
