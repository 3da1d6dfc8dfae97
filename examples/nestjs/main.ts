// Starts the example Nest app. Run: KOMPLIANT_WEBHOOK_KEY_ID=... KOMPLIANT_WEBHOOK_SECRET=... npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';

export async function bootstrap(port = Number(process.env.PORT ?? 3000)): Promise<NestExpressApplication> {
  // Nest's JSON body parser runs before the middleware; the webhook works with a parsed body
  // (the wire format authenticates field values, not bytes), but its 100 kB default limit would
  // refuse webhooks the library accepts (1 MiB), so raise it to the library's limit.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, logger: ['error', 'warn'] });
  app.useBodyParser('json', { limit: '1mb' });
  await app.listen(port, '127.0.0.1');
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void bootstrap();
}
