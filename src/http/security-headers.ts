import helmet from 'helmet';

/**
 * Security headers for Swagger UI and the OpenAPI document: a CSP that lets the UI's own scripts
 * and styles run and nothing else, no framing, no MIME sniffing, no referrer leaks.
 */
export function docsSecurityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // swagger-ui sets inline styles on its elements.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    // Swagger UI is served over plain HTTP locally; HSTS belongs to the TLS terminator.
    strictTransportSecurity: false,
  });
}
