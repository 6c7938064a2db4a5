import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminAction, AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import {
  AuditPage,
  AuditQuery,
  BulkRepublishBody,
  BulkRepublishResult,
  OutboxPage,
  OutboxQuery,
} from './operations.dto.js';
import { OperationsService } from './operations.service.js';

/** The outbox (unpublished events, bulk republish after a plan) and the audit trail. */
@ApiTags('Admin')
@ApiSecurity('admin')
@ApiUnauthorizedResponse({ description: 'No operator recognised' })
@ApiBadRequestResponse({ description: 'A filter is malformed' })
@Controller('admin')
@UseGuards(AdminKeyGuard)
@UseInterceptors(AdminAuditInterceptor)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get('outbox')
  @AdminAction('outbox.list')
  @ApiOperation({
    summary: 'Outbox rows by publish state, routing key and age, oldest first, with the total',
    description:
      'The total is the plan of a bulk republish: POST /admin/outbox/republish with the same filter and ' +
      'that count as `expectedCount`.',
  })
  @ApiOkResponse({ type: OutboxPage })
  outbox(@Query() query: OutboxQuery): Promise<OutboxPage> {
    return this.operations.outbox(query);
  }

  @Post('outbox/republish')
  @HttpCode(200)
  @AdminAction('outbox.republish')
  @ApiOperation({
    summary: 'Republish every event of a filter, after a plan (audited, with a reason)',
    description:
      'Each event is published again with the same id, exactly as POST /admin/events/{eventId}/republish. ' +
      "Refused (409) when the number of matching rows is not the plan's `expectedCount`.",
  })
  @ApiOkResponse({ type: BulkRepublishResult })
  @ApiForbiddenResponse({ description: 'The operator is a viewer' })
  @ApiConflictResponse({ description: 'The plan is out of date' })
  republish(@Body() body: BulkRepublishBody): Promise<BulkRepublishResult> {
    return this.operations.republishMatching(body);
  }

  @Get('audit')
  @AdminAction('audit.list')
  @ApiOperation({ summary: 'The audit trail, newest first: who did what, on what, why' })
  @ApiOkResponse({ type: AuditPage })
  audit(@Query() query: AuditQuery): Promise<AuditPage> {
    return this.operations.audit(query);
  }
}
