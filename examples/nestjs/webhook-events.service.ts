// The application's provider that receives verified Kompliant events from the webhook middleware.
// Run the app: npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts (see main.ts).
import { Injectable } from '@nestjs/common';
import type { KompliantEvent } from 'kompliant-webhooks';

/** Where verified events go: in a real app, a repository or a queue. */
@Injectable()
export class WebhookEventsService {
  /** The events handled so far, in order (kept here so the example can show them). */
  readonly handled: KompliantEvent[] = [];

  /** Handles one verified event. Throwing makes the middleware answer 500, so Kompliant retries. */
  async handle(event: KompliantEvent): Promise<void> {
    if (event.event_type === 'WORKFLOW_COMPLETED' && event.data.workflow_id === undefined) {
      throw new Error('WORKFLOW_COMPLETED without workflow_id');
    }
    this.handled.push(event);
  }
}
