import type { IncomingMessage, ServerResponse } from 'node:http';
import { AddressAllowlist } from '../../common/address-allowlist.js';
import { constantTimeEqual } from '../../common/constant-time.js';
import { urlTokenPaths } from '../../sandbox/simulation.js';
import { SIDOPULSA_ORDER_PATH } from './sidopulsa.facts.js';
import type { SandboxContext, SandboxProvider } from '../../sandbox/sandbox-provider.js';
import {
  deliverReport,
  nextNumber,
  requestTarget,
  SANDBOX_FAILING_SUFFIX,
  SANDBOX_PRODUCTS,
  type SandboxRequestRecord,
  sendJson,
  sleep,
  type TopupSandboxTiming,
} from '../../sandbox/topup-sandbox.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { topupSandboxFor } from '../../sandbox/sandbox-accounts.js';

export interface SidopulsaSandboxOptions extends TopupSandboxTiming {
  /** The reseller account the sandbox knows (the gateway's SIDOPULSA_API_USER / _API_KEY). */
  apiUser: string;
  apiKey: string;
  /** The gateway's SIDOPULSA_CALLBACK_TOKEN, part of the report URL; null when it has none. */
  callbackToken: string | null;
  /** Source addresses allowed to order (rc 07 otherwise); default any. */
  allowedIps?: string[];
  /** Starting deposit, IDR (rc 06 when an order costs more). Default 1,000,000. */
  balance?: number;
}

interface SidopulsaTransaction {
  serverid: string;
  refId: string;
  product: string;
  dest: string;
  price: string;
  status: 'pending' | 'sukses' | 'gagal';
  sn: string;
  requests: number;
}

/**
 * Sidopulsa's H2H request API: `GET /h2h/api/trx?api_key&api_user&ref_id&product&dest`, always
 * HTTP 200 with a JSON answer whose `rc` says what happened (00 … 14). Credentials are checked
 * (rc 04 user, rc 03 key), then the source address (rc 07), the product (05), the number (09),
 * the balance (06) and the ref_id (08: already used). A new order answers rc 01 pending and is
 * reported to the gateway later: statuscode 1 with a serial number, or 2 for a destination
 * ending in 0000.
 */
export class SidopulsaSandbox implements SandboxProvider {
  readonly name = 'sidopulsa';
  readonly requests: SandboxRequestRecord[] = [];
  private readonly transactions = new Map<string, SidopulsaTransaction>();
  private readonly allowlist: AddressAllowlist | null;
  private balance: number;

  constructor(
    private readonly context: SandboxContext,
    private readonly options: SidopulsaSandboxOptions,
  ) {
    this.allowlist = options.allowedIps ? new AddressAllowlist(options.allowedIps) : null;
    this.balance = options.balance ?? 1_000_000;
  }

  orders(): SidopulsaTransaction[] {
    return [...this.transactions.values()];
  }

  async handle(req: IncomingMessage, _body: Buffer, res: ServerResponse): Promise<boolean> {
    const { path, query } = requestTarget(req);
    if (path !== SIDOPULSA_ORDER_PATH) return false;
    const refId = query.get('ref_id') ?? '';
    const product = query.get('product') ?? '';
    const dest = query.get('dest') ?? '';
    const refuse = (rc: string, message: string) => {
      this.requests.push({ path, reference: refId || null, outcome: `rc ${rc}`, at: new Date() });
      sendJson(res, 200, {
        ref_id: refId,
        product,
        dest,
        price: '0',
        status: 'gagal',
        message,
        sn: '',
        rc,
        saldo_ahir: String(this.balance),
      });
      return true;
    };

    if (req.method !== 'GET') return refuse('12', 'method harus GET');
    if (!constantTimeEqual(query.get('api_user') ?? '', this.options.apiUser))
      return refuse('04', 'api_user salah');
    if (!constantTimeEqual(query.get('api_key') ?? '', this.options.apiKey))
      return refuse('03', 'api_key salah');
    const ip = req.socket.remoteAddress ?? '';
    if (this.allowlist && !this.allowlist.allows(ip))
      return refuse('07', `IP ${ip} tidak dikenali`);
    if (refId === '') return refuse('02', 'ref_id wajib diisi');

    const known = this.transactions.get(refId);
    if (known) {
      known.requests += 1;
      this.requests.push({ path, reference: refId, outcome: 'repeat', at: new Date() });
      await this.holdAnswer(refId, known.requests);
      return refuse('08', `ref_id ${refId} sudah pernah digunakan`);
    }
    if (!Object.hasOwn(SANDBOX_PRODUCTS, product))
      return refuse('05', `produk ${product} tidak aktif`);
    if (!/^\d{10,13}$/.test(dest)) return refuse('09', 'panjang nomor tujuan salah');
    const price = SANDBOX_PRODUCTS[product];
    if (Number(price) > this.balance) return refuse('06', 'saldo tidak cukup');

    this.balance -= Number(price);
    const trx: SidopulsaTransaction = {
      serverid: String(nextNumber()),
      refId,
      product,
      dest,
      price,
      status: 'pending',
      sn: '',
      requests: 1,
    };
    this.transactions.set(refId, trx);
    this.requests.push({ path, reference: refId, outcome: 'created', at: new Date() });
    await this.holdAnswer(refId, 1);
    if (!res.destroyed) {
      sendJson(res, 200, {
        ref_id: refId,
        product,
        dest,
        price,
        status: 'pending',
        message: `TRX ${product}.${dest} SEDANG DIPROSES`,
        sn: '',
        rc: '01',
        saldo_ahir: String(this.balance),
      });
    }
    this.scheduleReport(trx);
    return true;
  }

  private async holdAnswer(refId: string, attempt: number): Promise<void> {
    const delay = this.options.answerDelayMs?.(refId, attempt) ?? 0;
    if (delay > 0) await sleep(delay);
  }

  private scheduleReport(trx: SidopulsaTransaction): void {
    setTimeout(() => {
      const failed = trx.dest.endsWith(SANDBOX_FAILING_SUFFIX);
      trx.status = failed ? 'gagal' : 'sukses';
      trx.sn = failed ? 'Trx gagal' : `OPTR${String(nextNumber()).padStart(9, '0')}`;
      if (failed) this.balance += Number(trx.price);
      const outcome = failed ? `GAGAL, ${trx.sn}` : `BERHASIL, HRG:${trx.price} SN: ${trx.sn}`;
      const { path } = urlTokenPaths('sidopulsa', this.options.callbackToken, {
        serverid: trx.serverid,
        price: trx.price,
        clientid: trx.refId,
        statuscode: failed ? '2' : '1',
        kp: trx.product,
        msisdn: trx.dest,
        sn: trx.sn,
        message: `TRX ${trx.product}.${trx.dest} ${outcome}. SISA SALDO:${this.balance} CLIENTID=${trx.refId}.`,
      });
      deliverReport(this.context, 0, path);
    }, this.options.reportDelayMs ?? 500).unref();
  }
}

export function sidopulsaSandbox(options: SidopulsaSandboxOptions) {
  return (context: SandboxContext): SidopulsaSandbox => new SidopulsaSandbox(context, options);
}

/** Played when Sidopulsa's request API is configured. */
export const sidopulsaSandboxFor = ({ topups, providers }: GatewayConfig) =>
  topupSandboxFor(topups.sidopulsa, providers.sidopulsa, ({ apiUser, apiKey }, callbackToken) =>
    sidopulsaSandbox({ apiUser, apiKey, callbackToken }),
  );
