import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Response } from 'express';
import { AdminAction, AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import { ExpectedPaymentDto, ExpectedPaymentRefused } from './expected-payments.js';
import { type ExpectedPaymentView, ExpectedPaymentsService } from './expected-payments.service.js';
import { EXPECTED_STATES, type ExpectedState } from './expected-payments.store.js';

export class ExpectedPaymentViewDto implements ExpectedPaymentView {
  @ApiProperty() provider!: string;
  @ApiProperty() account!: string;
  @ApiProperty({ description: 'The transaction key its events are published under' })
  transactionKey!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) providerTransactionId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) merchantReference!: string | null;
  @ApiProperty() amount!: string;
  @ApiProperty() currency!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ enum: EXPECTED_STATES }) state!: ExpectedState;
  @ApiProperty({ description: 'Past its expiry without a final state' }) overdue!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) finalStatus!: string | null;
  @ApiProperty({ description: 'Final by inquiry without any callback (check the callback URL)' })
  foundByInquiry!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'What the last inquiry found' })
  lastResult!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) closedAt!: string | null;
}

export class ExpectedPaymentListQuery {
  @ApiPropertyOptional({
    enum: EXPECTED_STATES,
    default: 'overdue',
    description: '`overdue` lists those past their expiry without a final state',
  })
  @IsOptional()
  @IsIn(EXPECTED_STATES)
  state?: ExpectedState;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class ExpectedPaymentPage {
  @ApiProperty({ type: [ExpectedPaymentViewDto] }) items!: ExpectedPaymentViewDto[];
}

/** Turns a refusal into the HTTP answer naming it. */
export function refusalAnswer(error: ExpectedPaymentRefused): Error {
  if (error.kind === 'conflict') return new ConflictException(error.message);
  if (error.kind === 'not-configured') return new NotFoundException(error.message);
  return new BadRequestException(error.message);
}

/**
 * Expected payments on the management side: the order service registers each payment it created
 * (or sends a `payment.expected` command); operators list the ones that need attention.
 */
@ApiTags('Expected payments')
@ApiSecurity('admin')
@ApiUnauthorizedResponse({ description: 'No admin key, or not the configured one' })
@Controller()
@UseGuards(AdminKeyGuard)
@UseInterceptors(AdminAuditInterceptor)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class ExpectedPaymentsController {
  constructor(private readonly expected: ExpectedPaymentsService) {}

  @Post('payments/expected')
  @AdminAction('payments.expect')
  @ApiOperation({
    summary: 'Expect a payment: follow it by inquiry until it is final or its expiry passed',
    description:
      'Idempotent by provider, account and transaction: a repeat of the same payment answers 200 with its ' +
      'state, a repeat that differs is refused (409) naming the difference. NICEPAY needs providerTransactionId ' +
      '(tXid), merchantReference (referenceNo) and amount (amt); MCPayment providerTransactionId (transaction_id), ' +
      'merchantReference (order_id), details.externalId, details.paymentMethod and details.paymentChannel; S88Pay ' +
      'merchantReference (transaction_code) and providerTransactionId (transaction_no).',
  })
  @ApiCreatedResponse({ type: ExpectedPaymentViewDto, description: 'Stored and followed' })
  @ApiOkResponse({ type: ExpectedPaymentViewDto, description: 'Expected before: its state' })
  @ApiBadRequestResponse({ description: 'Invalid: the message names every problem' })
  @ApiNotFoundResponse({ description: 'The provider or account has no status API configured' })
  @ApiConflictResponse({ description: 'Expected before with other facts (named)' })
  @ApiServiceUnavailableResponse({ description: 'Storage unavailable: nothing stored, retry' })
  @HttpCode(201)
  async expect(
    @Body() body: ExpectedPaymentDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ExpectedPaymentView> {
    try {
      const { created, payment } = await this.expected.register(body, 'http');
      this.expected.commands.inc({ source: 'http', outcome: created ? 'accepted' : 'repeated' });
      res.status(created ? 201 : 200);
      return payment;
    } catch (error) {
      if (error instanceof ExpectedPaymentRefused) {
        this.expected.commands.inc({
          source: 'http',
          outcome: error.kind === 'conflict' ? 'conflict' : 'invalid',
        });
        throw refusalAnswer(error);
      }
      this.expected.commands.inc({ source: 'http', outcome: 'unavailable' });
      throw new ServiceUnavailableException(
        'The expected payment could not be stored; retry later',
      );
    }
  }

  @Get('admin/expected-payments')
  @AdminAction('payments.expected.list')
  @ApiOperation({
    summary: 'Expected payments by state, oldest first (default: overdue)',
    description:
      '`overdue`: past their expiry without a final state — the provider was down, or still reports them ' +
      'unfinished; `unknown`: the provider does not know them at all; `open`: still followed; `settled`: final.',
  })
  @ApiOkResponse({ type: ExpectedPaymentPage })
  async list(@Query() query: ExpectedPaymentListQuery): Promise<ExpectedPaymentPage> {
    return { items: await this.expected.list(query.state ?? 'overdue', query.limit ?? 100) };
  }
}
