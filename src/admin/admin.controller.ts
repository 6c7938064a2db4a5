import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAction, AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import {
  CallbackDetail,
  CallbackPage,
  CallbackSearchQuery,
  RenormalizeResult,
  RepublishResult,
  TransactionDetail,
  TransactionParams,
} from './admin.dto.js';
import { AdminService } from './admin.service.js';
import { RenormalizationService } from './renormalization.service.js';
import { TransactionHistoryService } from './transaction-history.service.js';

/** Callback and event ids are UUIDs: anything else is refused before it reaches a query. */
const uuid = (name: string) =>
  new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(`${name} must be a UUID`) });

/**
 * The admin API: only mounted when ADMIN_API_KEY is set. Every request needs the key and is
 * written to the `admin_audit` table.
 */
@ApiTags('Admin')
@ApiSecurity('admin')
@ApiUnauthorizedResponse({ description: 'No admin key, or not the configured one' })
@ApiServiceUnavailableResponse({
  description: 'The audit row could not be written: nothing was done',
})
@Controller('admin')
@UseGuards(AdminKeyGuard)
@UseInterceptors(AdminAuditInterceptor)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly history: TransactionHistoryService,
    private readonly renormalization: RenormalizationService,
  ) {}

  @Get('callbacks')
  @AdminAction('callbacks.list')
  @ApiOperation({
    summary: 'Search stored callbacks (accepted and rejected attempts), newest first',
    description:
      'Filters combine with AND. Paginated with an opaque cursor: pass `nextCursor` of a page as ' +
      '`cursor` to get the next one (stable under concurrent inserts).',
  })
  @ApiOkResponse({ type: CallbackPage })
  @ApiBadRequestResponse({ description: 'A filter is malformed' })
  search(@Query() query: CallbackSearchQuery): Promise<CallbackPage> {
    return this.admin.search(query);
  }

  @Get('callbacks/:id')
  @AdminAction('callbacks.show')
  @ApiOperation({
    summary:
      'One stored callback: the raw request, its verification, and every event with its publish state',
  })
  @ApiOkResponse({ type: CallbackDetail })
  @ApiNotFoundResponse({ description: 'No such callback' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID' })
  show(@Param('id', uuid('id')) id: string): Promise<CallbackDetail> {
    return this.admin.show(id);
  }

  @Get('transactions/:provider/:account/:transaction')
  @AdminAction('transactions.show')
  @ApiOperation({
    summary: "One transaction's state and every callback stored for it, in arrival order",
    description:
      'The current normalized status and version (the number of transitions), and each callback with its ' +
      'outcome — `accepted` (a transition: it produced the event listed), `superseded` (not a transition: ' +
      "no event), `duplicate` — and its events. `transaction` is the transaction key: the provider's " +
      'transaction id where it sends one, else the merchant reference. Quarantined callbacks are not under ' +
      'a transaction until renormalized (their fields failed validation): list them with ' +
      '`GET /admin/callbacks?outcome=quarantined`.',
  })
  @ApiOkResponse({ type: TransactionDetail })
  @ApiBadRequestResponse({ description: 'A path segment is malformed' })
  @ApiNotFoundResponse({ description: 'No state and no callback for this transaction' })
  transaction(@Param() params: TransactionParams): Promise<TransactionDetail> {
    return this.history.transaction(params.provider, params.account, params.transaction);
  }

  @Post('events/:eventId/republish')
  @HttpCode(202)
  @AdminAction('events.republish')
  @ApiOperation({
    summary: 'Publish an event again, with the same event id',
    description:
      'The outbox row goes back to unpublished and the relay publishes it again (consumers de-duplicating ' +
      'by id drop it unless they want it). The answer is the state right after the request: `publishedAt` null.',
  })
  @ApiAcceptedResponse({ type: RepublishResult })
  @ApiNotFoundResponse({ description: 'No such event' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID' })
  republish(@Param('eventId', uuid('eventId')) eventId: string): Promise<RepublishResult> {
    return this.admin.republish(eventId);
  }

  @Post('callbacks/:id/renormalize')
  @AdminAction('callbacks.renormalize')
  @ApiOperation({
    summary: "Run the current mapper again on a stored callback's fields",
    description:
      "The fields are the `data.raw` of the callback's first event: the decoded (decrypted) fields the guard " +
      'verified. They pass the current DTO validation and mapper; when the resulting event differs from the ' +
      'latest stored one (type, subject, or data other than receivedAt/callbackId), a NEW event is stored and ' +
      'published with a new deterministic id; the earlier events stay on record, untouched. A `quarantined` ' +
      'callback (authentic, but its fields failed validation) uses the verified fields kept with it: once they ' +
      "pass, its status is applied to the transaction's state — a transition is stored and published (202), " +
      'anything else becomes `superseded` or `duplicate` (200).',
  })
  @ApiOkResponse({
    type: RenormalizeResult,
    description: 'Unchanged: `changed` false, nothing published',
  })
  @ApiAcceptedResponse({
    type: RenormalizeResult,
    description: 'Changed: a new event is stored and being published',
  })
  @ApiNotFoundResponse({ description: 'No such callback' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID' })
  @ApiConflictResponse({
    description:
      'A rejected attempt (no event), or this exact result is already stored as an earlier revision',
  })
  @ApiUnprocessableEntityResponse({
    description: 'The stored fields fail the current validation or mapper',
  })
  async renormalize(
    @Param('id', uuid('id')) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RenormalizeResult> {
    const { status, body } = await this.renormalization.renormalize(id);
    res.status(status);
    return body;
  }
}
