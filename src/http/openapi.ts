import { type INestApplication, Injectable, type OnModuleInit } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/gateway-config.js';
import { formSchemasFromExamples, withLiveExamples } from '../dev/live-examples.js';

export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Payment callback gateway')
    .setDescription(
      'Receives transaction callbacks from S88Pay, MCPayment, NICEPAY, Sidopulsa and a PPOB server, ' +
        'proves each one authentic, stores it before acknowledging, and publishes one normalized, ' +
        'de-duplicated CloudEvent per transaction state to RabbitMQ. Each callback endpoint describes ' +
        "its provider's authentication scheme; status codes: 2xx stored (or duplicate), 400 malformed, " +
        '401 bad signature/token/decryption, 403 address not allowed, 404 provider not configured, ' +
        '413 too large, 415 wrong content type, 503 storage unavailable (retry).',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Admin-Key' }, 'admin')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  formSchemasFromExamples(document);
  return document;
}

/**
 * The document as Swagger UI gets it: without the `admin` key scheme, so the page has no
 * "Authorize" box and no generated command line ever carries a key. Its admin operations run
 * with the operator's console session (an HttpOnly cookie the page cannot read: sign in at
 * /console/login first). /docs-json keeps the scheme for API clients.
 */
export function withoutKeyScheme(document: OpenAPIObject): OpenAPIObject {
  const schemes = { ...document.components?.securitySchemes };
  delete schemes.admin;
  const paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item).map(([method, operation]) => {
          if (operation === null || typeof operation !== 'object' || !('security' in operation))
            return [method, operation];
          const copy = { ...(operation as Record<string, unknown>) };
          delete copy.security;
          return [method, copy];
        }),
      ),
    ]),
  );
  return {
    ...document,
    paths,
    components: { ...document.components, securitySchemes: schemes },
  } as OpenAPIObject;
}

export function mountSwaggerUi(app: INestApplication, config: GatewayConfig): void {
  SwaggerModule.setup('docs', app, () => openApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Payment callback gateway — API',
    // Nothing an operator typed is kept in the browser's storage.
    swaggerOptions: { persistAuthorization: false },
    patchDocumentOnRequest: <Req, Res>(req: Req, res: Res, document: OpenAPIObject) => {
      const forUi = !/^\/docs-(json|yaml)/.test((req as { url?: string }).url ?? '');
      const patched = forUi ? withoutKeyScheme(document) : document;
      if (!config.devTools.enabled) return patched;
      // Each page load (swagger-ui-init.js) and /docs-json: new, freshly signed examples.
      (res as ServerResponse).setHeader('Cache-Control', 'no-store');
      return withLiveExamples(patched, config);
    },
  });
}

/**
 * Mounts the API docs once Nest has registered the routes (onModuleInit runs between the routes
 * and Nest's not-found handler): Express tries layers in order, and the nine layers of Swagger UI
 * and its headers were tried, and skipped, by every callback before its own route (issue 28).
 */
@Injectable()
export class DocsAfterRoutes implements OnModuleInit {
  private mount: (() => void) | null = null;

  /** What createGateway would have mounted at once. */
  schedule(mount: () => void): void {
    this.mount = mount;
  }

  onModuleInit(): void {
    this.mount?.();
    this.mount = null;
  }
}
