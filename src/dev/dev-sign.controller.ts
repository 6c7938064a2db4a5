import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { registerWithLocalSandbox } from '../sandbox/register-callback.js';
import { type SimulatedRequest, UnknownStatusError } from '../sandbox/simulation.js';
import { PROVIDERS } from '../providers/index.js';
import type { NamedSimulation } from '../providers/provider-plugin.js';
import { SIMULATED_PROVIDERS, UnknownProviderError, simulatorFor } from './simulators.js';

/** Providers signed by name rather than by status (SNAP: an account and a service). */
const NAMED = PROVIDERS.flatMap(({ namedSimulation }) =>
  namedSimulation ? [namedSimulation] : [],
);

export class DevSignRequestDto {
  @ApiProperty({
    description:
      "The provider's own status value (NICEPAY 0/1, MCPayment PAID/EXPIRED/…, S88Pay 1–4/completed/…, " +
      'Sidopulsa 1/2, PPOB Pending/Success/Failed) or a normalized one (succeeded, failed, …)',
    example: 'succeeded',
  })
  status!: string;

  @ApiPropertyOptional({
    description: 'The merchant reference (the event subject); a unique SIM-… one when omitted',
    example: 'ORD-20251121-0001',
  })
  reference?: string;

  @ApiPropertyOptional({
    description:
      'SNAP only: the account of the accounts file, by id or profile name (default: the first SNAP account)',
    example: 'nicepay-snap',
  })
  account?: string;

  @ApiPropertyOptional({
    description:
      "SNAP only: the service code — 25 VA payment, 34 intrabank VA notify, 52 QR MPM notify, 56 direct-debit notify (default: the profile's first)",
    example: '25',
  })
  service?: string;
}

export class DevSignResponseDto {
  @ApiProperty({ enum: ['GET', 'POST'], example: 'POST' })
  method!: string;

  @ApiProperty({
    description:
      'Path and query of the provider endpoint. For Sidopulsa and PPOB it contains the configured URL token.',
    example: '/callbacks/nicepay',
  })
  url!: string;

  @ApiProperty({
    description: 'Headers to send (content type, signature)',
    example: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  headers!: Record<string, string>;

  @ApiPropertyOptional({ description: 'The exact body to send (absent for GET)' })
  body?: string;

  @ApiProperty({ description: 'The same request as a ready copy-paste curl command' })
  curl!: string;

  @ApiProperty({
    description: 'The event the request becomes',
    example: 'payment.succeeded.nicepay',
  })
  routingKey!: string;

  @ApiProperty({ description: 'The event subject', example: 'ORD-20251121-0001' })
  reference!: string;

  @ApiProperty({ description: "The provider's status value that was sent", example: '0' })
  providerStatus!: string;
}

const EXAMPLE_RESPONSE = {
  method: 'POST',
  url: '/callbacks/nicepay',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Jakarta Commons-HttpClient/3.1',
  },
  body:
    'tXid=IONPAYTEST02202511211205121234&referenceNo=ORD-20251121-0001&payMethod=02&amt=150000&currency=IDR&…&status=0' +
    '&merchantToken=9b0c…',
  curl:
    "curl -i -X POST 'http://localhost:3000/callbacks/nicepay' -H 'content-type: application/x-www-form-urlencoded' " +
    "--data-raw 'tXid=…&merchantToken=9b0c…'",
  routingKey: 'payment.succeeded.nicepay',
  reference: 'ORD-20251121-0001',
  providerStatus: '0',
};

/** POSIX shell single quoting. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function curlCommand(baseUrl: string, request: SimulatedRequest): string {
  const parts = ['curl', '-i'];
  if (request.method !== 'GET') parts.push('-X', request.method);
  parts.push(shellQuote(`${baseUrl}${request.path}`));
  for (const [name, value] of Object.entries(request.headers)) {
    parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  if (request.body !== undefined) parts.push('--data-raw', shellQuote(request.body));
  return parts.join(' ');
}

/**
 * Developer tools: a ready, genuinely signed provider request for Swagger UI's "Try it out" or
 * curl. Registered only when DEV_TOOLS_ENABLED is true (never with NODE_ENV=production); it
 * answers 404 anyway if the setting is off. Never returns hash keys, merchant keys, api keys or
 * secret keys: only what the provider itself would send.
 */
@ApiTags('Developer tools')
@Controller('dev/sign')
export class DevSignController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Post(':provider')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A ready, signed provider callback for testing (DEV_TOOLS_ENABLED only)',
    description:
      'Builds a real-shaped callback of the provider for the given status, signed or encrypted exactly as ' +
      'the provider does with the credentials configured on this gateway, and returns it ready to send: ' +
      'method, url, headers, body and a curl command. Paste it into the provider endpoint\'s "Try it out" ' +
      '(or run the curl) to get a genuine accepted callback and a real event. The secrets themselves are ' +
      'never returned. **Note:** for Sidopulsa and PPOB the URL token is part of the callback URL, so the ' +
      'returned `url` and `curl` contain it; this is why the endpoint exists only when DEV_TOOLS_ENABLED is ' +
      'true, which is refused with NODE_ENV=production. 404 when the provider is unknown or not configured; ' +
      '400 (listing the accepted values) when the status is unknown. For `snap`, `account` (id or profile) and ' +
      '`service` choose what is signed, as its provider signs it (the DOKU-style token comes from this ' +
      "gateway's own issuer and is in the returned Authorization header).",
  })
  @ApiParam({
    name: 'provider',
    enum: [...SIMULATED_PROVIDERS, ...NAMED.map(({ command }) => command)],
    example: 'nicepay',
  })
  @ApiBody({
    type: DevSignRequestDto,
    examples: {
      nicepaySucceeded: { summary: 'NICEPAY deposit (status 0)', value: { status: 'succeeded' } },
      withReference: {
        summary: 'With your own reference',
        value: { status: 'succeeded', reference: 'ORD-20251121-0001' },
      },
      providerStatus: {
        summary: "A provider's own status value (MCPayment)",
        value: { status: 'EXPIRED' },
      },
      snap: {
        summary: 'SNAP (provider snap): an account and a service',
        value: { status: 'succeeded', account: 'midtrans-snap', service: '52' },
      },
    },
  })
  @ApiOkResponse({
    type: DevSignResponseDto,
    description: 'The signed request',
    content: { 'application/json': { example: EXAMPLE_RESPONSE } },
  })
  @ApiBadRequestResponse({
    description: 'Missing or unknown status (the accepted ones are listed)',
  })
  @ApiNotFoundResponse({
    description: 'Developer tools are off, or the provider is unknown or not configured',
  })
  async sign(
    @Param('provider') provider: string,
    @Body() input: unknown,
    @Req() req: Request,
  ): Promise<DevSignResponseDto> {
    if (!this.config.devTools.enabled) throw new NotFoundException('Developer tools are disabled');
    const named = NAMED.find(({ command }) => command === provider);
    if (named) return this.signNamed(named, input, req);
    let simulator;
    try {
      simulator = simulatorFor(provider);
    } catch (error) {
      if (error instanceof UnknownProviderError) throw new NotFoundException(error.message);
      throw error;
    }
    if (!simulator.configured(this.config.providers)) {
      throw new NotFoundException(
        `Provider ${simulator.provider} is not configured on this gateway`,
      );
    }
    const fields = (input ?? {}) as Record<string, unknown>;
    const { status, reference } = fields;
    if (typeof status !== 'string' || status.trim() === '') {
      throw new BadRequestException(`status is required: one of ${simulator.statuses.join(', ')}`);
    }
    if (reference !== undefined && (typeof reference !== 'string' || reference.trim() === '')) {
      throw new BadRequestException('reference must be a non-empty string when given');
    }
    let request: SimulatedRequest;
    try {
      request = simulator.simulate(this.config.providers, status, reference);
    } catch (error) {
      if (error instanceof UnknownStatusError) throw new BadRequestException(error.message);
      throw error;
    }
    await registerWithLocalSandbox(this.config.providers, request);
    return this.answer(request, req);
  }

  /** A provider signed by name: SNAP per account and service (docs/snap.md). */
  private async signNamed(
    named: NamedSimulation,
    input: unknown,
    req: Request,
  ): Promise<DevSignResponseDto> {
    const fields = (input ?? {}) as Record<string, unknown>;
    for (const name of ['status', 'reference', ...named.devSignFields]) {
      const value = fields[name];
      if (value === undefined && name !== 'status') continue;
      if (typeof value !== 'string' || value.trim() === '')
        throw new BadRequestException(`${name} must be a non-empty string`);
    }
    try {
      const request = await named.devSign(this.config, {
        ...(Object.fromEntries(named.devSignFields.map((name) => [name, fields[name]])) as Record<
          string,
          string | undefined
        >),
        status: fields.status as string,
        reference: fields.reference as string | undefined,
      });
      return this.answer(request, req);
    } catch (error) {
      if (named.isNotFound(error)) throw new NotFoundException(error.message);
      if (named.isUsageError(error)) throw new BadRequestException(error.message);
      throw error;
    }
  }

  private answer(request: SimulatedRequest, req: Request): DevSignResponseDto {
    const baseUrl = `${req.protocol}://${req.get('host') ?? `localhost:${this.config.port}`}`;
    return {
      method: request.method,
      url: request.path,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      curl: curlCommand(baseUrl, request),
      routingKey: request.routingKey,
      reference: request.reference,
      providerStatus: request.providerStatus,
    };
  }
}
