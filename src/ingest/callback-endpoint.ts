import { applyDecorators, HttpCode } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { CallbackAck } from './callback-provider.js';

/** The responses every callback endpoint can give, for the OpenAPI document. */
export function ApiCallbackResponses(ack: CallbackAck): MethodDecorator {
  return applyDecorators(
    HttpCode(ack.status),
    ApiOkResponse({
      description:
        'Stored (or a duplicate of one already stored); the provider-specific acknowledgement',
      content: { [ack.contentType]: { example: ack.body } },
    }),
    ApiBadRequestResponse({
      description: 'Malformed callback: the message lists each field problem',
    }),
    ApiUnauthorizedResponse({ description: 'Signature, token or decryption check failed' }),
    ApiForbiddenResponse({ description: 'Source address not on the allowlist' }),
    ApiNotFoundResponse({ description: 'This provider is not configured on the gateway' }),
    ApiPayloadTooLargeResponse({ description: 'Body over the size limit' }),
    ApiUnsupportedMediaTypeResponse({ description: 'Wrong Content-Type for this provider' }),
    ApiServiceUnavailableResponse({
      description: 'Storage unavailable: nothing was stored, the provider should retry',
    }),
  );
}

export function sendAck(res: Response, result: { ack: CallbackAck; outcome: string }): void {
  const { ack } = result;
  res.locals.outcome = result.outcome;
  res.status(ack.status).type(ack.contentType).send(ack.body);
}
