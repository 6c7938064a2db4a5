import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { SINGLE_ACCOUNT } from './topup-callback.js';
import type { TopupOrderDto, TopupOrderView } from './topup-order.dto.js';
import { TopupOrdersRepository, type TopupOrderRow } from './topup-orders.repository.js';
import { TopupPlacementWorker } from './topup-placement.worker.js';
import { type TransactionStateRow, TransactionStates } from '../transactions/transaction-states.js';

/** Why an order cannot be taken; `reason` names the problem for the caller. */
export class TopupOrderRefused extends Error {
  constructor(
    readonly kind: 'not-configured' | 'conflict' | 'invalid',
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The order the same reference already names differs from this one (a reused reference). */
function differences(row: TopupOrderRow, order: TopupOrderDto): string[] {
  const wanted: Array<[string, string | null, string | null]> = [
    ['product', row.product, order.product ?? null],
    ['destination', row.destination, order.destination ?? null],
    ['inquiryId', row.inquiry_id, order.inquiryId ?? null],
  ];
  return wanted.filter(([, stored, sent]) => stored !== sent).map(([name]) => name);
}

/**
 * The order as stored, with the transaction's current state where one exists: the report (or a
 * resend's answer) may have moved it on since the order's own answer.
 */
export function orderView(
  row: TopupOrderRow,
  state: Pick<TransactionStateRow, 'status' | 'version'> | null = null,
): TopupOrderView {
  return {
    id: row.id,
    provider: row.provider,
    account: row.account,
    reference: row.reference,
    product: row.product,
    destination: row.destination,
    inquiryId: row.inquiry_id,
    placement: row.placement,
    status: state?.status ?? row.status,
    transactionVersion: state ? Number(state.version) : null,
    providerStatus: row.provider_status,
    providerMessage: row.provider_message,
    failureReason: row.failure_reason,
    attempts: Number(row.attempts),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/**
 * Takes top-up orders (from a command or POST /topups): stores each once, under (provider,
 * account, reference), before anything is sent; the placement worker sends it after the commit.
 */
@Injectable()
export class TopupOrdersService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly orders: TopupOrdersRepository,
    private readonly worker: TopupPlacementWorker,
    private readonly states: TransactionStates,
  ) {}

  /** Stores the order (or finds the one stored before) and returns its known state. */
  async submit(
    order: TopupOrderDto,
    source: 'amqp' | 'http',
    commandId: string | null,
  ): Promise<{ created: boolean; order: TopupOrderView }> {
    const account = order.account ?? SINGLE_ACCOUNT;
    const client = this.worker.clientFor(order.provider);
    if (!client) {
      throw new TopupOrderRefused(
        'not-configured',
        `${order.provider} orders are not configured on this gateway (set its API URL and credentials)`,
      );
    }
    if (account !== SINGLE_ACCOUNT) {
      throw new TopupOrderRefused(
        'not-configured',
        `account ${JSON.stringify(account)} is not configured for ${order.provider} (only "${SINGLE_ACCOUNT}")`,
      );
    }
    if (order.inquiryId && !client.supportsInquiry) {
      throw new TopupOrderRefused(
        'invalid',
        `${order.provider} takes no postpaid (inquiryId) orders`,
      );
    }
    const { created, row } = await this.orders.insert({
      provider: order.provider,
      account,
      reference: order.reference,
      product: order.inquiryId ? (order.product ?? null) : order.product!,
      destination: order.inquiryId ? (order.destination ?? null) : order.destination!,
      inquiryId: order.inquiryId ?? null,
      source,
      commandId,
    });
    if (!created) {
      const changed = differences(row, order);
      if (changed.length > 0) {
        throw new TopupOrderRefused(
          'conflict',
          `reference ${order.reference} already names another ${order.provider} order (${changed.join(', ')} differ)`,
        );
      }
    } else {
      this.worker.kick();
    }
    return { created, order: await this.view(row) };
  }

  async find(provider: string, account: string, reference: string): Promise<TopupOrderView | null> {
    const row = await this.orders.find(provider, account, reference);
    return row ? this.view(row) : null;
  }

  /** Orders that failed or were abandoned, newest first (the console's attention page). */
  async failed(limit: number): Promise<TopupOrderView[]> {
    return Promise.all((await this.orders.failed(limit)).map((row) => this.view(row)));
  }

  /** Answer and report share the merchant's refid as the transaction key. */
  private async view(row: TopupOrderRow): Promise<TopupOrderView> {
    return orderView(row, await this.states.get(row.provider, row.account, row.reference));
  }

  get enabledProviders(): string[] {
    return this.worker.providers();
  }

  get commandsQueue(): string {
    return this.config.topups.commandsQueue;
  }
}
