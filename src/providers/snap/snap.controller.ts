import { createHash } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Controller,
  HttpCode,
  Inject,
  Logger,
  NotFoundException,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { keyValidAt } from '../../config/accounts.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { ApiCallbackResponses, sendAck } from '../../ingest/callback-endpoint.js';
import { unauthorized } from '../../ingest/callback-errors.js';
import { type GatewayRequest, inboundFrom } from '../../ingest/gateway-request.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { constantTimeEqual } from '../../common/constant-time.js';
import { SnapNotificationDto } from './snap.dto.js';
import { missing, SnapErrorFilter } from './snap.errors.js';
import { type ExternalIdKey, SnapExternalIds } from './snap.external-ids.js';
import { SNAP_HEADERS, SNAP_VA_PAYMENT_ACK, serviceOfPath } from './snap.facts.js';
import { ackOf, SNAP_ACCESS_TOKEN, SNAP_SERVICES } from '../../config/snap/snap.profile.js';
import {
  headerText,
  requireFresh,
  snapAccountOf,
  snapTimestamp,
  SnapProvider,
} from './snap.provider.js';
import { SnapGuard } from './snap.guard.js';
import { clientKeyStringToSign, rsaVerifies } from './snap.signature.js';
import { issueToken } from './snap.token.js';

const ACCOUNT_PARAM = ApiParam({
  name: 'account',
  description: 'The SNAP account id of the accounts file (its profile decides the signature check)',
});

function describe(service: keyof typeof SNAP_SERVICES, title: string): MethodDecorator {
  const { code, path } = SNAP_SERVICES[service];
  return (target, key, descriptor) => {
    ApiOperation({
      summary: `SNAP ${title} (service ${code}, ${path})`,
      description:
        "Authentication per the account's profile (docs/snap.md): X-SIGNATURE of family rsa-clientkey, hmac-token, " +
        'rsa-body or hmac-notifyurl with a key of the account valid now, X-TIMESTAMP within the skew, X-PARTNER-ID; a ' +
        `repeated X-EXTERNAL-ID of the day is answered 409${code}00. Acknowledged \`{"responseCode":"200${code}00","responseMessage":"Successful"}\` ` +
        `once stored; refusals \`{responseCode: "<HTTP status>${code}<case>", responseMessage, message}\`.`,
    })(target, key, descriptor);
    ACCOUNT_PARAM(target, key, descriptor);
    ApiBody({ type: SnapNotificationDto })(target, key, descriptor);
    ApiCallbackResponses({
      ...SNAP_VA_PAYMENT_ACK,
      body: JSON.stringify({ responseCode: `200${code}00`, responseMessage: 'Successful' }),
    })(target, key, descriptor);
  };
}

@ApiTags('SNAP')
@Controller('callbacks/snap')
@UseFilters(SnapErrorFilter)
export class SnapController {
  private readonly logger = new Logger('SNAP');

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly ingest: IngestService,
    private readonly provider: SnapProvider,
    private readonly externalIds: SnapExternalIds,
  ) {}

  @Post(':account/v1.0/transfer-va/payment')
  @UseGuards(SnapGuard)
  @describe('va-payment', 'virtual account payment notification')
  vaPayment(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    return this.receive(req, res);
  }

  @Post(':account/v1.0/transfer-va/notify-payment-intrabank')
  @UseGuards(SnapGuard)
  @describe('va-notify-intrabank', 'intrabank virtual account payment notification')
  vaNotifyIntrabank(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    return this.receive(req, res);
  }

  @Post(':account/v1.0/debit/notify')
  @UseGuards(SnapGuard)
  @describe('debit-notify', 'direct debit notification')
  debitNotify(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    return this.receive(req, res);
  }

  @Post(':account/v1.0/qr/qr-mpm-notify')
  @UseGuards(SnapGuard)
  @describe('qr-mpm-notify', 'QRIS MPM payment notification')
  qrMpmNotify(@Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    return this.receive(req, res);
  }

  /**
   * Family hmac-token: the provider gets its access token from the merchant — here — with an
   * SHA256withRSA signature of `X-CLIENT-KEY|X-TIMESTAMP` by its private key.
   */
  @Post(':account/v1.0/access-token/b2b')
  @HttpCode(200)
  @ApiOperation({
    summary: 'SNAP B2B access token for family hmac-token accounts (service 73)',
    description:
      'X-CLIENT-KEY (the account clientKey), X-TIMESTAMP (within the skew), X-SIGNATURE = base64 SHA256withRSA of ' +
      '`X-CLIENT-KEY|X-TIMESTAMP` by the provider (verified with the account publicKey); body `{"grantType":"client_credentials"}`. ' +
      'Answers `{responseCode:"2007300", accessToken, tokenType:"Bearer", expiresIn:"900"}`.',
  })
  @ACCOUNT_PARAM
  @ApiBody({ schema: { type: 'object', example: { grantType: 'client_credentials' } } })
  token(@Req() req: GatewayRequest, @Res() res: Response): void {
    res.locals.provider = this.provider.name;
    const inbound = inboundFrom(req);
    if (!this.provider.isEnabled())
      throw new NotFoundException('SNAP callbacks are not configured on this gateway');
    const account = snapAccountOf(this.config, inbound);
    if (account.profile.family !== 'hmac-token')
      throw new NotFoundException(
        `SNAP account ${account.id} (family ${account.profile.family}) is not issued access tokens`,
      );
    const timestampText = headerText(inbound, SNAP_HEADERS.timestamp);
    const timestamp = snapTimestamp(timestampText);
    const clientKey = headerText(inbound, SNAP_HEADERS.clientKey);
    if (!clientKey) throw missing('the X-CLIENT-KEY header');
    const signature = headerText(inbound, SNAP_HEADERS.signature);
    if (!signature) throw missing('the X-SIGNATURE header');
    const body = inbound.body as { grantType?: unknown } | undefined;
    if (body?.grantType !== 'client_credentials')
      throw new BadRequestException('SNAP token request must have grantType client_credentials');
    requireFresh(timestamp, inbound.receivedAt, account.profile.skewSeconds, timestampText);
    if (!constantTimeEqual(clientKey, account.clientKey ?? ''))
      throw unauthorized(`SNAP X-CLIENT-KEY is not the client key of account ${account.id}`);
    const text = clientKeyStringToSign(clientKey, timestampText);
    const key = account.keys.find(
      (k) =>
        keyValidAt(k, inbound.receivedAt) &&
        k.publicKey !== null &&
        k.clientSecret !== null &&
        rsaVerifies(k.publicKey, text, signature),
    );
    if (!key)
      throw unauthorized(`SNAP token request signature does not verify for account ${account.id}`);
    const ttl = account.profile.tokenTtlSeconds;
    res.locals.outcome = 'token';
    res.status(200).json({
      responseCode: `200${SNAP_ACCESS_TOKEN.code}00`,
      responseMessage: 'Successful',
      accessToken: issueToken(account, key.clientSecret!, ttl, inbound.receivedAt),
      tokenType: 'Bearer',
      expiresIn: String(ttl),
    });
  }

  /**
   * The callback's X-EXTERNAL-ID is claimed, the callback goes through the pipeline (stored before
   * the ack), the claim is marked stored; a repeat of the day with the same bytes is a 409.
   */
  private async receive(req: GatewayRequest, res: Response): Promise<void> {
    const { inbound, verified } = req.callback!;
    const service = serviceOfPath(inbound.path)!;
    const key: ExternalIdKey = {
      account: verified!.account,
      partnerId: headerText(inbound, SNAP_HEADERS.partnerId),
      day: headerText(inbound, SNAP_HEADERS.timestamp).slice(0, 10),
      externalId: headerText(inbound, SNAP_HEADERS.externalId),
      bodyHash: createHash('sha256').update(inbound.rawBody).digest('hex'),
    };
    let claim: string | null;
    try {
      claim = await this.externalIds.claim(key);
    } catch (error) {
      this.logger.error(`Claiming a SNAP X-EXTERNAL-ID failed: ${(error as Error).message}`);
      throw this.unavailable();
    }
    if (claim === null) {
      res.locals.outcome = 'duplicate';
      throw new ConflictException(
        `SNAP X-EXTERNAL-ID was already used today with this same body by partner ${key.partnerId || '(none)'} for account ${key.account}: a replay is never processed twice`,
      );
    }
    let result: Awaited<ReturnType<IngestService['ingest']>>;
    try {
      result = await this.ingest.ingest(this.provider, req);
    } catch (error) {
      await this.externalIds.release(key, claim).catch(() => undefined);
      throw error;
    }
    // Stored: a failed mark leaves a claim that expires, and the pipeline's own de-duplication.
    await this.externalIds.stored(key, claim).catch((error: unknown) => {
      this.logger.warn(`Marking a SNAP X-EXTERNAL-ID stored failed: ${(error as Error).message}`);
    });
    const account = this.config.providers.snap?.accounts.find((a) => a.id === verified!.account);
    const ack = account
      ? ackOf(account.profile, service)
      : { responseCode: `200${SNAP_SERVICES[service].code}00`, responseMessage: 'Successful' };
    sendAck(res, { ...result, ack: { ...SNAP_VA_PAYMENT_ACK, body: JSON.stringify(ack) } });
  }

  private unavailable(): ServiceUnavailableException {
    return new ServiceUnavailableException('The callback could not be stored; retry later');
  }
}
