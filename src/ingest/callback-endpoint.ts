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

/** An acknowledgement as written: its Content-Type with the charset, its byte length, its text. */
interface WireAck {
  contentType: string;
  length: string;
  body: string;
}

/** Acks are a few constants per provider: each is encoded once. */
const wireAcks = new WeakMap<CallbackAck, WireAck>();

/**
 * The ack's Content-Type as Express's `res.type(t).send(string)` writes it: the body is UTF-8
 * text, so `charset=utf-8` is added, or replaces a charset the type named.
 */
export function ackContentType(contentType: string): string {
  const [type, ...parameters] = contentType.split(';').map((part) => part.trim());
  const kept = parameters.filter((p) => p !== '' && !/^charset\s*=/i.test(p));
  return [type.toLowerCase(), ...kept, 'charset=utf-8'].join('; ');
}

function wireAck(ack: CallbackAck): WireAck {
  let wire = wireAcks.get(ack);
  if (!wire) {
    // A string, not a Buffer: Node then sends the status line, headers and body in one write.
    wire = {
      contentType: ackContentType(ack.contentType),
      length: String(Buffer.byteLength(ack.body, 'utf8')),
      body: ack.body,
    };
    wireAcks.set(ack, wire);
  }
  return wire;
}

/**
 * Writes the provider's acknowledgement. Straight to Node's response, not through Express's
 * `res.send` (charset parsing and formatting, a MIME lookup, freshness checks — every callback,
 * for the same few bytes; issue 28): the same status, headers and body it would write.
 */
export function sendAck(res: Response, result: { ack: CallbackAck; outcome: string }): void {
  const { ack } = result;
  const wire = wireAck(ack);
  res.locals.outcome = result.outcome;
  res.statusCode = ack.status;
  res.setHeader('Content-Type', wire.contentType);
  res.setHeader('Content-Length', wire.length);
  res.end(wire.body, 'utf8');
}
