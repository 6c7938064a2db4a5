import type { INestApplication } from '@nestjs/common';
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

export function mountSwaggerUi(app: INestApplication, config: GatewayConfig): void {
  SwaggerModule.setup('docs', app, () => openApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Payment callback gateway — API',
    // Each page load (swagger-ui-init.js) and /docs-json: new, freshly signed examples.
    ...(config.devTools.enabled
      ? {
          patchDocumentOnRequest: <Req, Res>(_req: Req, res: Res, document: OpenAPIObject) => {
            (res as ServerResponse).setHeader('Cache-Control', 'no-store');
            return withLiveExamples(document, config);
          },
        }
      : {}),
  });
}
