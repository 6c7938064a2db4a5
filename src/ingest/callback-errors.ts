import {
  BadRequestException,
  ForbiddenException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { AddressAllowlist } from '../common/address-allowlist.js';
import type { InboundCallback } from './callback-provider.js';

/** 403 unless the client address is on the allowlist. */
export function requireAllowedAddress(
  allowlist: AddressAllowlist,
  inbound: InboundCallback,
  provider: string,
): void {
  if (!allowlist.allows(inbound.clientIp)) {
    throw new ForbiddenException(
      `Source address ${inbound.clientIp} is not allowed to send ${provider} callbacks`,
    );
  }
}

/** 415 unless the request's media type is the one the provider sends. */
export function requireContentType(
  inbound: InboundCallback,
  expected: string,
  provider: string,
): void {
  const actual = (inbound.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (actual !== expected) {
    throw new UnsupportedMediaTypeException(
      `${provider} callbacks must be ${expected}, got ${actual || 'no Content-Type'}`,
    );
  }
}

/** The body as a flat object of fields, or 400. */
export function requireFields(body: unknown, provider: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException(`${provider} callback body must be an object of fields`);
  }
  return body as Record<string, unknown>;
}

/** A field that must be a non-empty string before a signature can even be computed. */
export function requireString(
  fields: Record<string, unknown>,
  name: string,
  provider: string,
): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequestException(`${provider} callback is missing ${name}`);
  }
  return value;
}

export function unauthorized(message: string): UnauthorizedException {
  return new UnauthorizedException(message);
}
