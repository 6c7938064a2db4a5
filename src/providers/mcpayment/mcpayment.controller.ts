import { Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiCallbackResponses, sendAck } from '../../ingest/callback-endpoint.js';
import type { GatewayRequest } from '../../ingest/gateway-request.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { McpaymentCallbackDto } from './mcpayment.dto.js';
import { MCPAYMENT_ACK, MCPAYMENT_SIGNATURE_HEADER } from './mcpayment.facts.js';
import { McpaymentGuard } from './mcpayment.guard.js';
import { McpaymentProvider } from './mcpayment.provider.js';
import { MCPAYMENT_PAID_SAMPLE, MCPAYMENT_SAMPLE_SIGNATURE } from './mcpayment.samples.js';

@ApiTags('MCPayment')
@Controller('callbacks/mcpayment')
export class McpaymentController {
  constructor(
    private readonly ingest: IngestService,
    private readonly provider: McpaymentProvider,
  ) {}

  @Post()
  @UseGuards(McpaymentGuard)
  @ApiOperation({
    summary: 'MCPayment (iFortepay) PG3 payment notification',
    description:
      'Authentication: header `mcp-signature` must equal lowercase hex SHA-256(transaction_id + x-req-signature), ' +
      'where x-req-signature = lowercase hex SHA-256(hash_key + external_id + order_id) with `MCPAYMENT_HASH_KEY`; ' +
      'when `MCPAYMENT_SUB_MERCHANT_ID` is set, SHA-256(transaction_id + x-req-signature + sub_merchant_id) instead. ' +
      'Plain SHA-256, not HMAC; upper- or lower-case hex is accepted. ' +
      'transaction_status PAID/SUCCESS → `payment.succeeded`, ACTIVE/PROCESSING → `payment.pending`, ' +
      'EXPIRED → `payment.expired`, CANCELED/VOID → `payment.cancelled`, FAILED → `payment.failed`, ' +
      "REFUNDED → `payment.refunded`. Unknown fields are kept in the event's `raw`. " +
      `The example body is signed for the demo hash key HASHKEY123: mcp-signature ${MCPAYMENT_SAMPLE_SIGNATURE}.`,
  })
  @ApiHeader({
    name: MCPAYMENT_SIGNATURE_HEADER,
    required: true,
    description: 'SHA-256(transaction_id + x-req-signature [+ sub_merchant_id]), hex',
    example: MCPAYMENT_SAMPLE_SIGNATURE,
  })
  @ApiConsumes('application/json')
  @ApiBody({
    type: McpaymentCallbackDto,
    examples: {
      paidVirtualAccount: {
        summary: `BRI VA paid; mcp-signature ${MCPAYMENT_SAMPLE_SIGNATURE} for hash key HASHKEY123`,
        value: MCPAYMENT_PAID_SAMPLE,
      },
    },
  })
  @ApiCallbackResponses(MCPAYMENT_ACK)
  async receive(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    sendAck(res, await this.ingest.ingest(this.provider, req));
  }
}
