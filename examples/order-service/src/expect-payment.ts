import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';

/**
 * What the order service tells the gateway when it creates a payment at a provider, so the
 * gateway follows it to a final state even if no callback ever comes (docs/expected-payments.md).
 * The fields each provider's status API needs: NICEPAY providerTransactionId (tXid),
 * merchantReference (referenceNo), amount (amt); MCPayment providerTransactionId (transaction_id),
 * merchantReference (order_id) and details { externalId, paymentMethod, paymentChannel }; S88Pay
 * merchantReference (transaction_code) and providerTransactionId (transaction_no).
 */
export interface ExpectedPayment {
  provider: 'nicepay' | 'mcpayment' | 's88pay';
  account: string;
  providerTransactionId?: string;
  merchantReference?: string;
  /** Decimal string, as created at the provider. */
  amount: string;
  currency: string;
  /** RFC 3339 with an offset. */
  expiresAt: string;
  details?: { externalId?: string; paymentMethod?: string; paymentChannel?: string };
}

/**
 * Sends one `payment.expected` command (a CloudEvent, structured mode) to the gateway's commands
 * queue on a confirm channel: resolved once the broker holds it. A repeat of the same payment is
 * harmless (the gateway is idempotent by provider, account and transaction); a repeat that differs
 * goes to `<queue>.dead-letter` with the reason in its `x-rejection-reason` header.
 */
export async function expectPayment(
  amqpUrl: string,
  queue: string,
  payment: ExpectedPayment,
): Promise<string> {
  const connection = await amqplib.connect(amqpUrl.split(',')[0]);
  try {
    const channel = await connection.createConfirmChannel();
    const command = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/order-service',
      type: 'payment.expected',
      datacontenttype: 'application/json',
      data: payment,
    };
    // The gateway declares the queue (a quorum queue); sending to it before the gateway ever ran
    // would lose the command, so check it exists.
    await channel.checkQueue(queue);
    channel.sendToQueue(queue, Buffer.from(JSON.stringify(command)), {
      persistent: true,
      messageId: command.id,
      contentType: 'application/cloudevents+json',
    });
    await channel.waitForConfirms();
    return command.id;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
