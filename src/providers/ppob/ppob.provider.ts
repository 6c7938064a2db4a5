import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { NormalizedTransaction } from '../../events/normalized-transaction.js';
import type { VerifiedCallback } from '../../ingest/callback-provider.js';
import { topupTransaction, UrlTokenProvider } from '../../topups/topup-callback.js';
import { PpobReportDto } from './ppob.dto.js';
import { PPOB_ACK, PPOB_STATUS } from './ppob.facts.js';

/** Reports are unsigned: source allowlist and/or URL token (see authenticateUrlToken). */
@Injectable()
export class PpobProvider extends UrlTokenProvider<PpobReportDto> {
  readonly name = 'ppob';
  readonly displayName = 'PPOB';
  readonly dto = PpobReportDto;
  readonly referenceField = 'ref_id';
  protected readonly ackResponse = PPOB_ACK;

  constructor(@Inject(GATEWAY_CONFIG) protected readonly config: GatewayConfig) {
    super();
  }

  /** No server transaction id is sent: de-duplication falls back to ref_id (+ status). */
  normalize(dto: PpobReportDto, verified: VerifiedCallback): NormalizedTransaction {
    return topupTransaction({
      status: PPOB_STATUS[dto.status.trim().toLowerCase()],
      providerStatus: dto.status,
      providerTransactionId: null,
      merchantReference: dto.ref_id,
      amount: null,
      code: dto.code ?? dto.Code,
      destination: dto.destination,
      serialNumber: dto.sn ?? dto.Sn,
      raw: verified.fields,
    });
  }
}
