import { Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCallbackResponses, sendAck } from '../../ingest/callback-endpoint.js';
import type { GatewayRequest } from '../../ingest/gateway-request.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { S88payCallbackDto } from './s88pay.dto.js';
import { S88PAY_ACK } from './s88pay.facts.js';
import { S88payGuard } from './s88pay.guard.js';
import { S88payProvider } from './s88pay.provider.js';
import { S88PAY_DEPOSIT_SAMPLE } from './s88pay.samples.js';

@ApiTags('S88Pay')
@ApiExtraModels(S88payCallbackDto)
@Controller('callbacks/s88pay')
export class S88payController {
  constructor(
    private readonly ingest: IngestService,
    private readonly provider: S88payProvider,
  ) {}

  @Post()
  @UseGuards(S88payGuard)
  @ApiOperation({
    summary: 'S88Pay payment / payout callback (operator)',
    description:
      'Authentication: there is no signature; `key` must decrypt with the configured credentials. ' +
      'Decoding: percent-decode (`+` stays `+`), base64-decode, AES-256-CBC with PKCS#7 padding, where the ' +
      'AES key is the 32 raw bytes of SHA-256(`S88PAY_API_KEY`) and the IV is the first 16 characters of ' +
      'lowercase hex SHA-256(`S88PAY_SECRET_KEY`). The plaintext (a JSON object or `k=v&k=v` text) must carry ' +
      '`transaction_code`, and its `transaction_code` / `transaction_no` must equal the unencrypted ones beside ' +
      '`key`; otherwise 401. transaction_status 1/pending and 4 (manual process) → `payment.pending`, ' +
      '2/completed/success → `payment.succeeded`, 3/failed → `payment.failed`. Every decrypted field except ' +
      "`merchant_api_key` is kept in the event's `raw`.",
  })
  @ApiConsumes('application/json')
  @ApiBody({
    description: 'Encrypted payload plus the two codes in clear',
    schema: {
      type: 'object',
      required: ['key', 'transaction_code'],
      properties: {
        key: {
          type: 'string',
          description:
            'percent-encoded base64 of the AES-256-CBC ciphertext; decrypts to S88payCallbackDto',
        },
        transaction_code: {
          type: 'string',
          description: "the operator's transaction code, in clear",
        },
        transaction_no: { type: 'string', description: "S88Pay's transaction number, in clear" },
      },
    },
    examples: {
      completedDeposit: {
        summary: 'Completed deposit, encrypted for the demo credentials myapikey / mysecretkey',
        value: S88PAY_DEPOSIT_SAMPLE,
      },
    },
  })
  @ApiCallbackResponses(S88PAY_ACK)
  async receive(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }
}
