// The example Nest application: config, the events provider, and the webhook middleware mounted for one route.
// Run the app: npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts (see main.ts).
import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { KompliantWebhookMiddlewareService } from './kompliant-webhook.middleware.js';
import { WebhookEventsService } from './webhook-events.service.js';

@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
  providers: [WebhookEventsService],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Only POST /webhooks/kompliant goes through the middleware, which answers it itself.
    consumer.apply(KompliantWebhookMiddlewareService).forRoutes({ path: 'webhooks/kompliant', method: RequestMethod.POST });
  }
}
