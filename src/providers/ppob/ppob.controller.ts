import { applyDecorators, Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCallbackResponses, sendAck } from '../../ingest/callback-endpoint.js';
import type { GatewayRequest } from '../../ingest/gateway-request.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { ApiQueryFields, ApiUrlTokenParam } from '../../topups/topup-callback.js';
import { PPOB_ACK } from './ppob.facts.js';
import { PpobGuard } from './ppob.guard.js';
import { PpobProvider } from './ppob.provider.js';
import { PPOB_SUCCESS_SAMPLE } from './ppob.samples.js';

const AUTH =
  'The report carries no signature. Authentication: the source address must be on `PPOB_ALLOWED_IPS` ' +
  '(403 otherwise, checked first) and, when `PPOB_CALLBACK_TOKEN` is set, the URL must end in that token ' +
  '(401 otherwise; compared in constant time). Either may be left unset, not both. status (any case) ' +
  'Pending → `topup.pending`, Success → `topup.succeeded`, Failed → `topup.failed`; anything else → 400. ' +
  'No server transaction id is sent: repeats are recognised by ref_id and status.';

function PpobReportDocs(summary: string, route: string): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary, description: `${AUTH} ${route}` }),
    ApiQueryFields(
      {
        ref_id: {
          description: 'Your refid for the transaction (the event subject)',
          required: true,
        },
        status: { description: 'Pending, Success or Failed (any case)', required: true },
        sn: { description: 'Voucher serial number or token (`Sn` is accepted too)' },
        code: { description: 'Product code (`Code` is accepted too)' },
        destination: { description: 'Customer number' },
      },
      PPOB_SUCCESS_SAMPLE,
    ),
    ApiCallbackResponses(PPOB_ACK),
  );
}

@ApiTags('PPOB')
@Controller('callbacks/ppob')
@UseGuards(PpobGuard)
export class PpobController {
  constructor(
    private readonly ingest: IngestService,
    private readonly provider: PpobProvider,
  ) {}

  @Get(':token')
  @PpobReportDocs(
    'PPOB server transaction report (report URL with token)',
    'Give the server `https://<gateway>/callbacks/ppob/<PPOB_CALLBACK_TOKEN>` as your report URL.',
  )
  @ApiUrlTokenParam('PPOB_CALLBACK_TOKEN', 'local-ppob-token-change-me')
  async receiveWithToken(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }

  @Get()
  @PpobReportDocs(
    'PPOB server transaction report (allowlist only, no token)',
    'Works only when `PPOB_CALLBACK_TOKEN` is unset; otherwise 401 "token required".',
  )
  async receive(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }
}
