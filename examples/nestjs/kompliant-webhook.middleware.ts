// A Nest middleware that verifies and decrypts Kompliant webhooks with the secret from ConfigService, then calls the events provider.
// Run the app: npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts (see main.ts).
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NextFunction, Request, Response } from 'express';
import { kompliantWebhook, memoryKeyStore, type KompliantWebhookMiddleware } from 'kompliant-webhooks';
import { WebhookEventsService } from './webhook-events.service.js';

@Injectable()
export class KompliantWebhookMiddlewareService implements NestMiddleware {
  private readonly middleware: KompliantWebhookMiddleware<Request>;

  // Explicit @Inject tokens: the example runs under esbuild (tsx, vitest), which emits no decorator metadata.
  constructor(@Inject(ConfigService) config: ConfigService, @Inject(WebhookEventsService) events: WebhookEventsService) {
    // Options are checked here, once, when Nest builds the module: a missing secret fails at startup.
    this.middleware = kompliantWebhook<Request>({
      keyStore: memoryKeyStore({
        [config.getOrThrow<string>('KOMPLIANT_WEBHOOK_KEY_ID')]: config.getOrThrow<string>('KOMPLIANT_WEBHOOK_SECRET'),
      }),
      onEvent: (event) => events.handle(event),
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    this.middleware(req, res, next);
  }
}
