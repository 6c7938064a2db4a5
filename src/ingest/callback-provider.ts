import type { IncomingHttpHeaders } from 'node:http';
import type { NormalizedTransaction } from '../events/normalized-transaction.js';

/** A callback as it reached the gateway, before anything is believed. */
export interface InboundCallback {
  method: string;
  /** The route template (`/callbacks/sidopulsa/:token`), so URL secrets are never stored. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed query string (GET providers carry their fields here). */
  query: Record<string, unknown>;
  /** Route parameters, e.g. the URL token. */
  params: Record<string, string>;
  /** Parsed body: an object for JSON and form bodies, undefined when there is none. */
  body: unknown;
  /** The exact bytes received: the body for POST, the query string for GET. */
  rawBody: Buffer;
  contentType: string | undefined;
  /** The client address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy. */
  clientIp: string;
  receivedAt: Date;
}

/** What authentication proved: who the callback is for and the fields it really carries. */
export interface VerifiedCallback {
  /** The configured merchant account / credential that verified it (e.g. the NICEPAY iMid). */
  account: string;
  /** Label (or position) of the account's key that verified it; never the key itself. */
  key?: string;
  /** The callback's fields, decoded or decrypted, exactly as the provider sent them. */
  fields: Record<string, unknown>;
  /** One line for the audit record: what was checked. Never contains a secret. */
  verification: string;
}

/** The response the provider expects for a received callback. */
export interface CallbackAck {
  status: number;
  contentType: string;
  body: string;
}

/** What the start-up banner says about a provider (never a secret). */
export interface ProviderSummary {
  /** How a callback is proven authentic, e.g. `merchantToken + source address`. */
  authentication: string;
  /** How its status is confirmed before the event is published, e.g. `callback only`. */
  verification: string;
  /** When disabled: the settings that would enable it. */
  enableWith: string;
  /** Risky settings of this provider, one line each. */
  warnings: string[];
}

/**
 * The one interface a provider implements (src/providers/<name>/). The shared ingest pipeline
 * calls these in order — authenticate, validate `dto`, normalize, store, ack — and never names
 * a provider.
 */
export interface CallbackProvider<Dto extends object = object> {
  /** Lower-case id used in routing keys, sources and storage: `nicepay`. */
  readonly name: string;
  /** How people write it, for messages: `NICEPAY`. */
  readonly displayName: string;
  /** class-validator DTO for `VerifiedCallback.fields`; unknown fields must be accepted. */
  readonly dto: new () => Dto;
  /**
   * The largest body this provider sends (`16kb`, …); BODY_LIMIT still caps it. Unset: BODY_LIMIT.
   * Served at `/callbacks/<name>`.
   */
  readonly bodyLimit?: string;
  /** Request headers worth keeping with the stored callback (signatures, …), lower case. */
  readonly recordedHeaders?: readonly string[];
  /**
   * The field (body or query) holding the merchant reference in plain text, so a refused attempt
   * can be found by the customer's order reference; unset where it cannot be read (encrypted).
   */
  readonly referenceField?: string;
  /** False when the provider's credentials are not configured: its endpoints answer 404. */
  isEnabled(): boolean;
  /** For the start-up banner. */
  summary(): ProviderSummary;
  /** Proves the callback authentic or throws 401 (credentials), 403 (source address), 400/415 (shape). */
  authenticate(inbound: InboundCallback): VerifiedCallback | Promise<VerifiedCallback>;
  /** Maps the validated DTO to the normalized transaction. */
  normalize(dto: Dto, verified: VerifiedCallback): NormalizedTransaction;
  /** The success response the provider expects. Duplicates get the same one. */
  ack(): CallbackAck;
}
