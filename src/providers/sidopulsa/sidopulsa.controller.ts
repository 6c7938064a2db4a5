import { applyDecorators, Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCallbackResponses, sendAck } from '../../ingest/callback-endpoint.js';
import type { GatewayRequest } from '../../ingest/gateway-request.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { ApiQueryFields, ApiUrlTokenParam } from '../../topups/topup-callback.js';
import { SIDOPULSA_ACK } from './sidopulsa.facts.js';
import { SidopulsaGuard } from './sidopulsa.guard.js';
import { SidopulsaProvider } from './sidopulsa.provider.js';
import { SIDOPULSA_SUCCESS_SAMPLE } from './sidopulsa.samples.js';

const AUTH =
  'Sidopulsa signs nothing. Authentication: the source address must be on `SIDOPULSA_ALLOWED_IPS` ' +
  '(403 otherwise, checked first) and, when `SIDOPULSA_CALLBACK_TOKEN` is set, the URL must end in that ' +
  'token (401 otherwise; compared in constant time). Either may be left unset, not both. ' +
  'statuscode 1 → `topup.succeeded`, 2 → `topup.failed`; anything else → 400.';

function SidopulsaReportDocs(summary: string, route: string): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary, description: `${AUTH} ${route}` }),
    ApiQueryFields(
      {
        serverid: { description: "Sidopulsa's transaction id", required: true },
        clientid: {
          description: 'Your refid for the transaction (the event subject)',
          required: true,
        },
        price: { description: 'Product price in rupiah', required: true },
        statuscode: { description: '1 success, 2 failed', required: true },
        kp: { description: 'Product code' },
        msisdn: { description: 'Destination number' },
        sn: { description: 'Operator serial number (a failure text when statuscode is 2)' },
        message: { description: 'Free text from Sidopulsa, kept in the event raw' },
      },
      SIDOPULSA_SUCCESS_SAMPLE,
    ),
    ApiCallbackResponses(SIDOPULSA_ACK),
  );
}

@ApiTags('Sidopulsa')
@Controller('callbacks/sidopulsa')
@UseGuards(SidopulsaGuard)
export class SidopulsaController {
  constructor(
    private readonly ingest: IngestService,
    private readonly provider: SidopulsaProvider,
  ) {}

  @Get(':token')
  @SidopulsaReportDocs(
    'Sidopulsa transaction report (callback URL with token)',
    'Register `https://<gateway>/callbacks/sidopulsa/<SIDOPULSA_CALLBACK_TOKEN>` with Sidopulsa; it appends the query.',
  )
  @ApiUrlTokenParam('SIDOPULSA_CALLBACK_TOKEN', 'local-sidopulsa-token-change-me')
  async receiveWithToken(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }

  @Get()
  @SidopulsaReportDocs(
    'Sidopulsa transaction report (allowlist only, no token)',
    'Works only when `SIDOPULSA_CALLBACK_TOKEN` is unset; otherwise 401 "token required".',
  )
  async receive(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }
}
