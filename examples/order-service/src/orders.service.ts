import { Injectable, Logger } from '@nestjs/common';

export interface PaidOrder {
  /** The merchant's order reference: the CloudEvent `subject`. */
  reference: string;
  /** Decimal string as received (never converted to a float). */
  amount: string | null;
  currency: string;
  provider: string;
  providerTransactionId: string | null;
  /** The event that marked it paid. */
  eventId: string;
  paidAt: string;
}

/** An in-memory order book: which orders are paid. A real service updates its orders table. */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);
  private readonly paid = new Map<string, PaidOrder>();
  /** The highest `data.transactionVersion` applied per transaction (source + provider id). */
  private readonly versions = new Map<string, number>();

  /** True when `version` is higher than the one held for the transaction (none held: true). */
  isNewer(transaction: string, version: number): boolean {
    return version > (this.versions.get(transaction) ?? 0);
  }

  holdVersion(transaction: string, version: number): void {
    if (this.isNewer(transaction, version)) this.versions.set(transaction, version);
  }

  /**
   * Marks an order paid. Returns `already-paid` when another event (a different id: e.g. a second
   * provider or transaction for the same order) had already paid it, which may be a double
   * payment that needs a refund or a look by a person; it is logged, not applied again.
   */
  markPaid(order: PaidOrder): 'paid' | 'already-paid' {
    const existing = this.paid.get(order.reference);
    if (existing) {
      this.logger.warn(
        `Order ${order.reference} already paid by event ${existing.eventId}; event ${order.eventId} ` +
          `(${order.provider} ${order.amount} ${order.currency}) may be a double payment`,
      );
      return 'already-paid';
    }
    this.paid.set(order.reference, order);
    this.logger.log(
      `Order ${order.reference} paid: ${order.amount} ${order.currency} via ${order.provider}`,
    );
    return 'paid';
  }

  get(reference: string): PaidOrder | undefined {
    return this.paid.get(reference);
  }

  list(): PaidOrder[] {
    return [...this.paid.values()];
  }
}
