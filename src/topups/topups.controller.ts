import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAction, AdminAuditInterceptor, AdminSubject } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import { maskNumber } from '../common/personal-data.js';
import { isDataException } from '../common/safe-error.js';
import { SINGLE_ACCOUNT } from './topup-callback.js';
import { MalformedCommand, validateTopupOrder } from './topup-commands.js';
import { TopupMetrics } from './topup-metrics.js';
import { TopupOrderDto, TopupOrderView } from './topup-order.dto.js';
import { TopupOrderRefused, TopupOrdersService } from './topup-orders.service.js';

const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 64) : null);

/**
 * The audit row of `POST /topups` (it spends the merchant's balance): the order it names and what
 * was ordered; the customer's number masked.
 */
function orderSubject(body: Record<string, unknown>) {
  const account = text(body.account) ?? SINGLE_ACCOUNT;
  const destination = text(body.destination);
  return {
    target: `${text(body.provider)}/${account}/${text(body.reference)}`,
    details: {
      provider: text(body.provider),
      account,
      reference: text(body.reference),
      product: text(body.product),
      inquiryId: text(body.inquiryId),
      destination: destination === null ? null : maskNumber(destination),
    },
  };
}

/**
 * The HTTP way in for top-up orders (the same as a `topup.requested` command), for teams that
 * prefer HTTP and for trying it from Swagger UI. Needs the admin key.
 */
@ApiTags('Top-ups')
@ApiSecurity('admin')
@ApiUnauthorizedResponse({ description: 'No admin key, or not the configured one' })
@Controller('topups')
@UseGuards(AdminKeyGuard)
@UseInterceptors(AdminAuditInterceptor)
export class TopupsController {
  constructor(
    private readonly orders: TopupOrdersService,
    private readonly metrics: TopupMetrics,
  ) {}

  @Post()
  @AdminAction('topups.create')
  @AdminSubject(orderSubject)
  @ApiOperation({
    summary: 'Place a top-up order with the PPOB server or Sidopulsa',
    description:
      'Stores the order (unique on provider, account and reference), then the gateway sends it to ' +
      'the provider, retrying with the same refid after a timeout. What happens is published as ' +
      '`topup.pending|succeeded|failed.<provider>` events, the answer and the later report forming ' +
      'one transaction. Sending the same reference again places no second order and answers the ' +
      'order as it stands (200).',
  })
  @ApiAcceptedResponse({ type: TopupOrderView, description: 'Stored; being sent to the provider' })
  @ApiOkResponse({
    type: TopupOrderView,
    description: 'This reference was ordered before: its state',
  })
  @ApiBadRequestResponse({ description: 'Malformed order: the message names every field problem' })
  @ApiNotFoundResponse({ description: 'Orders for this provider (or account) are not configured' })
  @ApiConflictResponse({ description: 'The reference already names a different order' })
  @ApiServiceUnavailableResponse({ description: 'Storage unavailable: nothing stored, retry' })
  async create(
    @Body() body: TopupOrderDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TopupOrderView> {
    let order: TopupOrderDto;
    try {
      order = validateTopupOrder(body);
    } catch (error) {
      this.metrics.commands.inc({ source: 'http', outcome: 'invalid' });
      throw new BadRequestException((error as MalformedCommand).message);
    }
    try {
      const { created, order: view } = await this.orders.submit(order, 'http', null);
      this.metrics.commands.inc({ source: 'http', outcome: created ? 'accepted' : 'repeated' });
      res.status(created ? 202 : 200);
      return view;
    } catch (error) {
      if (error instanceof TopupOrderRefused) {
        this.metrics.commands.inc({
          source: 'http',
          outcome: error.kind === 'conflict' ? 'conflict' : 'invalid',
        });
        if (error.kind === 'conflict') throw new ConflictException(error.reason);
        if (error.kind === 'not-configured') throw new NotFoundException(error.reason);
        throw new BadRequestException(error.reason);
      }
      if (isDataException(error)) {
        this.metrics.commands.inc({ source: 'http', outcome: 'invalid' });
        throw new BadRequestException('A value of the order cannot be stored');
      }
      this.metrics.commands.inc({ source: 'http', outcome: 'unavailable' });
      throw new ServiceUnavailableException('The order could not be stored; retry later');
    }
  }

  @Get('failed')
  @AdminAction('topups.failed')
  @ApiOperation({
    summary: 'Orders that failed or were abandoned, newest first',
    description:
      'Refused by the provider (the reason in failureReason) or abandoned after every attempt: what the console lists as needing attention.',
  })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  @ApiOkResponse({ type: [TopupOrderView] })
  @ApiBadRequestResponse({ description: 'limit is not a whole number from 1 to 1000' })
  async failed(@Query('limit') limit?: string): Promise<TopupOrderView[]> {
    const count = limit === undefined ? 100 : Number(limit);
    if (!/^\d{1,4}$/.test(limit ?? '100') || count < 1 || count > 1000) {
      throw new BadRequestException('limit must be a whole number from 1 to 1000');
    }
    return this.orders.failed(count);
  }

  @Get(':provider/:reference')
  @AdminAction('topups.show')
  @ApiOperation({ summary: 'The state of a top-up order, by provider and your reference' })
  @ApiQuery({ name: 'account', required: false, example: SINGLE_ACCOUNT })
  @ApiOkResponse({ type: TopupOrderView })
  @ApiNotFoundResponse({ description: 'No such order' })
  async find(
    @Param('provider') provider: string,
    @Param('reference') reference: string,
    @Query('account') account?: string,
  ): Promise<TopupOrderView> {
    const order = await this.orders.find(provider, account ?? SINGLE_ACCOUNT, reference);
    if (!order) throw new NotFoundException(`No ${provider} order with reference ${reference}`);
    return order;
  }
}
