import { Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCallbackResponses, sendAck } from '../../ingest/callback-endpoint.js';
import type { GatewayRequest } from '../../ingest/gateway-request.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { NicepayNotificationDto } from './nicepay.dto.js';
import { NICEPAY_ACK } from './nicepay.facts.js';
import { NicepayGuard } from './nicepay.guard.js';
import { NicepayProvider } from './nicepay.provider.js';
import { NICEPAY_VA_DEPOSIT_SAMPLE } from './nicepay.samples.js';

@ApiTags('NICEPAY')
@Controller('callbacks/nicepay')
export class NicepayController {
  constructor(
    private readonly ingest: IngestService,
    private readonly provider: NicepayProvider,
  ) {}

  @Post()
  @UseGuards(NicepayGuard)
  @ApiOperation({
    summary: 'NICEPAY payment notification (API v2 checkout, dbProcessUrl)',
    description:
      'Authentication: the source address must be on `NICEPAY_ALLOWED_IPS` (NICEPAY publishes 103.20.51.33/.34 ' +
      'for production, .39/.40 for development) and `merchantToken` must equal lowercase hex ' +
      'SHA-256(iMid + tXid + amt + merchantKey) for one of the configured `NICEPAY_IMID`s. ' +
      "status 0 → `payment.succeeded`, 1 → `payment.reversed`. Unknown fields are kept in the event's `raw`.",
  })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({
    type: NicepayNotificationDto,
    examples: {
      virtualAccountDeposit: {
        summary: 'VA deposit, signed for the demo credentials of .env.example',
        value: NICEPAY_VA_DEPOSIT_SAMPLE,
      },
    },
  })
  @ApiCallbackResponses(NICEPAY_ACK)
  async receive(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }
}
