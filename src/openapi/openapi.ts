import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ProblemDetailsDto } from './problem-details.dto';
import { completeDocument, operationIdOf } from './contract';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('customer-access')
    .setDescription(
      'Disable and enable customers of a subscription business, with an audit trail, and tell ' +
        'customer backends what each customer may do (the limits API). Errors are RFC 9457 ' +
        'problem details (application/problem+json) with a stable `code`; each response lists ' +
        'the codes it can carry. Every response carries `X-Request-Id`.',
    )
    .setVersion('1.0.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api_key')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ProblemDetailsDto],
    operationIdFactory: operationIdOf,
  });
  // As package.json says: not licensed for use outside the company.
  document.info.license = { name: 'UNLICENSED' };
  return completeDocument(document, app);
}
