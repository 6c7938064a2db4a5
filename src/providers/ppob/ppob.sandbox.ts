import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual } from '../../common/constant-time.js';
import { urlTokenPaths } from '../../sandbox/simulation.js';
import { PPOB_PAYMENT_PATH, PPOB_TOPUP_PATH, ppobSignature } from './ppob.signature.js';
import type { SandboxContext, SandboxProvider } from '../../sandbox/sandbox-provider.js';
import {
  deliverReport,
  nextNumber,
  SANDBOX_FAILING_SUFFIX,
  SANDBOX_PRODUCTS,
  type SandboxRequestRecord,
  sendJson,
  sleep,
  type TopupSandboxTiming,
} from '../../sandbox/topup-sandbox.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { topupSandboxFor } from '../../sandbox/sandbox-accounts.js';

export interface PpobSandboxOptions extends TopupSandboxTiming {
  /** The partner account the sandbox knows (the gateway's PPOB_USERNAME / PPOB_API_TOKEN). */
  username: string;
  token: string;
  /** The gateway's PPOB_CALLBACK_TOKEN, part of the report URL; null when it has none. */
  callbackToken: string | null;
  /** Largest accepted difference between Gw-datetime and the sandbox clock (default 5 min). */
  maxClockSkewMs?: number;
}

interface PpobTransaction {
  trxId: number;
  refid: string;
  code: string;
  destination: string;
  status: 'Waiting' | 'Pending' | 'Success' | 'Failed';
  sn: string;
  requests: number;
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Gw-datetime (Asia/Jakarta, UTC+7) as an instant, or null when it is not a real time in that format. */
function parseJakarta(text: string): Date | null {
  const m = DATETIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const utc = Date.UTC(year, month - 1, day, hour - 7, minute, second);
  const check = new Date(utc + 7 * 3_600_000);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || hour > 23) return null;
  return new Date(utc);
}

/**
 * The PPOB host-to-host server's request API (seed 003 §1): `POST /trx/topup` and
 * `POST /trx/payment`, JSON, signed with Gw-username / Gw-datetime / Gw-signature. A refid sent
 * again answers that transaction's state ("trx sebelumnya ditemukan") and creates nothing. Each
 * order is later reported to the gateway by GET: Success with a serial number, or Failed for a
 * destination ending in 0000.
 */
export class PpobSandbox implements SandboxProvider {
  readonly name = 'ppob';
  readonly requests: SandboxRequestRecord[] = [];
  private readonly transactions = new Map<string, PpobTransaction>();
  private readonly inquiries = new Map<string, PpobTransaction>();

  constructor(
    private readonly context: SandboxContext,
    private readonly options: PpobSandboxOptions,
  ) {}

  /** Transactions created (one per refid). */
  orders(): PpobTransaction[] {
    return [...this.transactions.values()];
  }

  async handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== PPOB_TOPUP_PATH && path !== PPOB_PAYMENT_PATH) return false;
    const record = (reference: string | null, outcome: string) =>
      this.requests.push({ path, reference, outcome, at: new Date() });
    if (req.method !== 'POST') {
      record(null, 'method');
      sendJson(res, 405, { status: 'Failed', message: 'method harus POST' });
      return true;
    }
    const refusal = this.authenticate(req);
    if (refusal) {
      record(null, 'auth');
      sendJson(res, 401, { status: 'Failed', message: refusal });
      return true;
    }
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (typeof fields !== 'object' || fields === null) throw new Error('not an object');
    } catch {
      record(null, 'body');
      sendJson(res, 400, { status: 'Failed', message: 'body harus JSON' });
      return true;
    }
    const text = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    const refid = text(fields.refid);
    if (refid === '') {
      record(null, 'body');
      sendJson(res, 400, { status: 'Failed', message: 'refid wajib diisi' });
      return true;
    }

    const known = this.transactions.get(refid);
    if (known) {
      known.requests += 1;
      record(refid, 'repeat');
      await this.answer(res, known, 'trx sebelumnya ditemukan');
      return true;
    }

    let trx: PpobTransaction;
    if (path === PPOB_PAYMENT_PATH) {
      const inquiry = this.inquiries.get(text(fields.inq_id));
      if (!inquiry) {
        record(refid, 'inq_id');
        sendJson(res, 400, { status: 'Failed', message: 'inq_id tidak ditemukan' });
        return true;
      }
      trx = this.create(refid, inquiry.code, inquiry.destination, 'Waiting');
    } else {
      const code = text(fields.code);
      const destination = text(fields.dest);
      if (code === '' || destination === '') {
        record(refid, 'body');
        sendJson(res, 400, { status: 'Failed', message: 'code dan dest wajib diisi' });
        return true;
      }
      if (code.startsWith('INQ')) {
        // An inquiry: its trx_id is what a later /trx/payment names as inq_id.
        trx = this.create(refid, code, destination, 'Pending');
        this.inquiries.set(String(trx.trxId), trx);
        record(refid, 'created');
        await this.answer(res, trx, 'inquiry berhasil');
        return true;
      }
      const known = Object.hasOwn(SANDBOX_PRODUCTS, code);
      trx = this.create(refid, code, destination, known ? 'Waiting' : 'Failed');
      if (!known) {
        record(refid, 'created');
        await this.answer(res, trx, `produk ${code} tidak tersedia`);
        return true;
      }
    }
    record(refid, 'created');
    await this.answer(res, trx, 'request trx diterima');
    this.scheduleReport(trx);
    return true;
  }

  /** Null when the three headers prove the partner; else the refusal message. */
  private authenticate(req: IncomingMessage): string | null {
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const username = header('gw-username');
    const datetime = header('gw-datetime');
    const signature = header('gw-signature');
    if (!username || !datetime || !signature)
      return 'header Gw-username, Gw-datetime dan Gw-signature wajib';
    if (!constantTimeEqual(username, this.options.username)) return 'Gw-username tidak dikenal';
    const at = parseJakarta(datetime);
    if (!at) return 'format Gw-datetime harus YYYY-mm-DD HH:MM:SS (Asia/Jakarta)';
    if (Math.abs(Date.now() - at.getTime()) > (this.options.maxClockSkewMs ?? 300_000))
      return 'Gw-datetime terlalu jauh dari waktu server';
    const expected = ppobSignature(this.options.username, datetime, this.options.token);
    if (!constantTimeEqual(signature, expected)) return 'Gw-signature tidak valid';
    return null;
  }

  private create(
    refid: string,
    code: string,
    destination: string,
    status: PpobTransaction['status'],
  ): PpobTransaction {
    const trx: PpobTransaction = {
      trxId: nextNumber(),
      refid,
      code,
      destination,
      status,
      sn: '',
      requests: 1,
    };
    this.transactions.set(refid, trx);
    return trx;
  }

  private async answer(res: ServerResponse, trx: PpobTransaction, message: string): Promise<void> {
    const delay = this.options.answerDelayMs?.(trx.refid, trx.requests) ?? 0;
    if (delay > 0) await sleep(delay);
    if (res.destroyed) return;
    sendJson(res, 200, {
      code: trx.code,
      destination: trx.destination,
      message,
      ref_id: trx.refid,
      sn: trx.sn,
      status: trx.status,
      trx_id: trx.trxId,
    });
  }

  private scheduleReport(trx: PpobTransaction): void {
    setTimeout(() => {
      const failed = trx.destination.endsWith(SANDBOX_FAILING_SUFFIX);
      trx.status = failed ? 'Failed' : 'Success';
      trx.sn = failed ? '' : `05${String(nextNumber()).padStart(14, '0')}`;
      const { path } = urlTokenPaths('ppob', this.options.callbackToken, {
        ref_id: trx.refid,
        status: trx.status,
        sn: trx.sn,
        code: trx.code,
        destination: trx.destination,
      });
      deliverReport(this.context, 0, path);
    }, this.options.reportDelayMs ?? 500).unref();
  }
}

/** The factory the sandbox server takes. */
export function ppobSandbox(options: PpobSandboxOptions) {
  return (context: SandboxContext): PpobSandbox => new PpobSandbox(context, options);
}

/** Played when PPOB's request API is configured. */
export const ppobSandboxFor = ({ topups, providers }: GatewayConfig) =>
  topupSandboxFor(topups.ppob, providers.ppob, ({ username, token }, callbackToken) =>
    ppobSandbox({ username, token, callbackToken }),
  );
