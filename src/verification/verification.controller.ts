import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminAction, AdminAuditInterceptor } from '../operators/admin-audit.js';
import { type AdminRequest, AdminKeyGuard } from '../operators/admin-key.guard.js';
import {
  type ClaimView,
  PublishUnverifiedBody,
  PublishUnverifiedResult,
  VerificationListQuery,
  VerificationPage,
  VerifyNowResult,
} from './verification.dto.js';
import { VerificationService } from './verification.service.js';
import { VerificationStore } from './verification.store.js';

const iso = (value: unknown) => (value ? new Date(value as string).toISOString() : null);

/** Verification admin: what waits or conflicts, verify now, publish without verification. */
@ApiTags('Admin')
@ApiSecurity('admin')
@ApiUnauthorizedResponse({ description: 'No admin key, or not the configured one' })
@Controller('admin/verifications')
@UseGuards(AdminKeyGuard)
@UseInterceptors(AdminAuditInterceptor)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class VerificationController {
  constructor(
    private readonly verification: VerificationService,
    private readonly store: VerificationStore,
  ) {}

  @Get()
  @AdminAction('verifications.list')
  @ApiOperation({
    summary:
      'Callbacks of verified providers by verification state, oldest first (default: conflicted)',
    description:
      "A callback of a verified provider is a hint; the event comes from the provider's answer. " +
      '`verifying`: waiting for the provider. `conflicted`: the provider does not know the transaction as the ' +
      'callback describes it, or states another amount, currency or reference. `contradicted`: the provider ' +
      "states another status (its answer was applied). `unconfirmed`: the provider's answers kept lacking a fact " +
      'the event needs: held for an operator. Each item shows what the callback claims.',
  })
  @ApiOkResponse({ type: VerificationPage })
  async list(@Query() query: VerificationListQuery): Promise<VerificationPage> {
    const rows = await this.store.list(query.state ?? 'conflicted', query.limit ?? 100);
    return {
      items: rows.map((row) => {
        const data = (JSON.parse(String(row.event)) as StoredClaim).event.body.data;
        return {
          callbackId: String(row.callback_id),
          provider: String(row.provider),
          account: String(row.account),
          transactionKey: String(row.transaction_key),
          state: String(row.state),
          claim: {
            status: data.status,
            providerStatus: data.providerStatus,
            merchantReference: data.merchantReference,
            providerTransactionId: data.providerTransactionId,
            amount: data.amount,
            currency: data.currency,
          },
          nextAt: iso(row.inquiry_next_at),
          lastResult: (row.last_result as string | null) ?? null,
          lastError: ((row.inquiry_error ?? row.last_error) as string | null) ?? null,
          detail: (row.detail as string | null) ?? null,
          answerId: (row.answer_id as string | null) ?? null,
          createdAt: iso(row.created_at)!,
          settledAt: iso(row.settled_at),
        };
      }),
    };
  }

  @Post(':id/verify')
  @HttpCode(200)
  @AdminAction('verifications.verify')
  @ApiOperation({
    summary: "Ask the provider now about a callback's transaction, and say what it answered",
    description:
      'Whatever the schedule; a conflicted, contradicted or unconfirmed callback is judged anew. The answer is ' +
      "applied exactly as an automatic inquiry would be (the provider's answer is the event).",
  })
  @ApiOkResponse({ type: VerifyNowResult })
  @ApiBadRequestResponse({ description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ description: 'No verification for this callback' })
  @ApiConflictResponse({
    description: 'Another replica is asking about this transaction right now',
  })
  async verifyNow(@Param('id') id: string): Promise<VerifyNowResult> {
    const outcome = await this.verification.verifyNow(callbackIdOf(id));
    if (outcome === null) throw new NotFoundException(`No verification for callback ${id}`);
    if (outcome === 'busy') {
      throw new ConflictException(
        `Another replica is asking the provider about the transaction of callback ${id} right now; try again in a minute`,
      );
    }
    return {
      callbackId: id,
      state: outcome.state,
      detail: outcome.detail,
      asked: outcome.asked,
      answer: outcome.answer,
      decision: outcome.decision,
      eventId: outcome.eventId,
    };
  }

  @Post(':id/publish')
  @HttpCode(200)
  @AdminAction('verifications.publish-unverified')
  @ApiOperation({
    summary: 'Publish a waiting callback without the provider confirming it (audited)',
    description:
      'For an operator who checked the transaction with the provider by hand. Only a callback still `verifying` ' +
      'or `unconfirmed` — never one the provider refuted (`conflicted`, `contradicted`). The event is published with ' +
      '`data.verification` = `{ method: "operator", by, reason }`; the reason is kept with the verification and in ' +
      'the audit trail.',
  })
  @ApiOkResponse({ type: PublishUnverifiedResult })
  @ApiBadRequestResponse({
    description: 'The id is not a UUID, or the reason is missing or invalid',
  })
  @ApiNotFoundResponse({ description: 'No such verification' })
  @ApiConflictResponse({
    description: 'Not waiting: confirmed, contradicted, conflicted or published already',
  })
  async publish(
    @Param('id') id: string,
    @Body() body: PublishUnverifiedBody,
    @Req() req: AdminRequest,
  ): Promise<PublishUnverifiedResult> {
    const hint = await this.store.get(callbackIdOf(id));
    if (!hint) throw new NotFoundException(`No verification for callback ${id}`);
    const by = req.operator?.name ?? 'unknown';
    const published = await this.verification.publishUnverified(hint.callbackId, body.reason, by);
    if (!published) {
      const now = await this.store.outcomeOf(hint.callbackId);
      throw new ConflictException(
        `The callback ${id} is ${now?.state ?? hint.state}: only a callback still verifying or unconfirmed can be ` +
          'published without the provider (a conflicted or contradicted one was refuted by the provider)',
      );
    }
    return { callbackId: id, state: 'published_unverified', eventId: published.eventId };
  }
}

interface StoredClaim {
  event: { body: { data: ClaimView } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `:id` of a route: a callback id is a UUID; anything else is refused before it reaches SQL. */
function callbackIdOf(id: string): string {
  if (!UUID.test(id)) throw new BadRequestException('id must be a callback id (a UUID)');
  return id.toLowerCase();
}
