import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminAction, AdminAuditInterceptor } from '../admin/admin-audit.js';
import { AdminKeyGuard } from '../admin/admin-key.guard.js';
import {
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
    summary: 'Callbacks by verification state, oldest first (default: conflicted)',
    description:
      '`conflicted`: the provider does not know the transaction, or reports another amount, currency or ' +
      'reference than the callback: nothing was published. `verifying`: still waiting for the provider.',
  })
  @ApiOkResponse({ type: VerificationPage })
  async list(@Query() query: VerificationListQuery): Promise<VerificationPage> {
    const rows = await this.store.list(query.state ?? 'conflicted', query.limit ?? 100);
    return {
      items: rows.map((row) => ({
        callbackId: String(row.callback_id),
        provider: String(row.provider),
        account: String(row.account),
        transactionKey: String(row.transaction_key),
        state: String(row.state),
        attempts: Number(row.attempts),
        nextAt: iso(row.next_at),
        lastError: (row.last_error as string | null) ?? null,
        detail: (row.detail as string | null) ?? null,
        createdAt: iso(row.created_at)!,
        settledAt: iso(row.settled_at),
      })),
    };
  }

  @Post(':id/verify')
  @HttpCode(200)
  @AdminAction('verifications.verify')
  @ApiOperation({
    summary: 'Ask the provider now about a waiting or conflicted callback',
    description: 'The answer is applied exactly as an automatic inquiry would be.',
  })
  @ApiOkResponse({ type: VerifyNowResult })
  @ApiNotFoundResponse({ description: 'No waiting or conflicted verification for this callback' })
  async verifyNow(@Param('id') id: string): Promise<VerifyNowResult> {
    const state = await this.verification.verifyNow(id);
    if (state === null) {
      throw new NotFoundException(
        `No waiting or conflicted verification for callback ${id} (or another replica holds it right now)`,
      );
    }
    return { callbackId: id, state };
  }

  @Post(':id/publish')
  @HttpCode(200)
  @AdminAction('verifications.publish-unverified')
  @ApiOperation({
    summary: 'Publish a callback without the provider confirming it (audited)',
    description:
      'For an operator who checked the transaction with the provider by hand. The event is published ' +
      'with `data.verification.method` = `signature`; the reason is kept with the verification and in the audit trail.',
  })
  @ApiOkResponse({ type: PublishUnverifiedResult })
  @ApiNotFoundResponse({ description: 'No such verification' })
  @ApiConflictResponse({ description: 'Already settled (confirmed, contradicted or published)' })
  async publish(
    @Param('id') id: string,
    @Body() body: PublishUnverifiedBody,
  ): Promise<PublishUnverifiedResult> {
    const work = await this.store.get(id);
    if (!work) throw new NotFoundException(`No verification for callback ${id}`);
    if (!(await this.verification.publishUnverified(id, body.reason))) {
      throw new ConflictException(`The verification of callback ${id} is already settled`);
    }
    return { callbackId: id, state: 'published_unverified' };
  }
}
