import { ChatState } from '../chat-state.js';

export interface RongIntegration {
  type: string;
  callbackUrl: string;
  enabled?: boolean;
  objectNames?: string[];
  events?: string[];
  [key: string]: unknown;
}

export interface RongBotRecord {
  userId: string;
  name: string;
  type: string;
  profileUrl: string;
  metadata: Record<string, string>;
  integrations: RongIntegration[];
  createdAt: number;
  updatedAt: number;
}

/** The emulated RongCloud app: its conversations, plus its bots with their integrations. */
export class RongCloudState extends ChatState {
  readonly bots = new Map<string, RongBotRecord>();

  putBot(bot: RongBotRecord): void {
    this.bots.set(bot.userId, bot);
    this.addAccount(bot.userId);
    this.emit('robots');
  }

  deleteBot(userId: string): void {
    this.bots.delete(userId);
    this.emit('robots');
  }

  override clear(): void {
    this.bots.clear();
    super.clear();
  }
}
