import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { NormalizedTransaction } from '../../events/normalized-transaction.js';
import type { VerifiedCallback } from '../../ingest/callback-provider.js';
import { topupTransaction, UrlTokenProvider } from '../../topups/topup-callback.js';
import { SidopulsaReportDto } from './sidopulsa.dto.js';
import { SIDOPULSA_ACK, SIDOPULSA_STATUS } from './sidopulsa.facts.js';

/** No signature exists: source allowlist and/or URL token (see authenticateUrlToken). */
@Injectable()
export class SidopulsaProvider extends UrlTokenProvider<SidopulsaReportDto> {
  readonly name = 'sidopulsa';
  readonly displayName = 'Sidopulsa';
  readonly referenceField = 'clientid';
  readonly dto = SidopulsaReportDto;
  protected readonly ackResponse = SIDOPULSA_ACK;

  constructor(@Inject(GATEWAY_CONFIG) protected readonly config: GatewayConfig) {
    super();
  }

  /**
   * Identified by clientid (the merchant's refid), not serverid: the answer to a top-up order
   * carries only the refid, and it and the report must be one transaction.
   */
  normalize(dto: SidopulsaReportDto, verified: VerifiedCallback): NormalizedTransaction {
    const transaction = topupTransaction({
      status: SIDOPULSA_STATUS[dto.statuscode],
      providerStatus: dto.statuscode,
      providerTransactionId: dto.serverid,
      merchantReference: dto.clientid,
      amount: dto.price,
      code: dto.kp,
      destination: dto.msisdn,
      serialNumber: dto.sn,
      raw: verified.fields,
    });
    // Added to the fresh object rather than spread into a copy: `{ ...object, newMember }` gives
    // V8 (Node 20) a new hidden class per call, slow to build and to read (issue 28).
    transaction.identifiedBy = 'merchantReference';
    return transaction;
  }
}
