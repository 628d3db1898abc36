import { ChatState } from '../chat-state.js';

export interface Robot {
  userId: string;
  /** False once deleted: the cloud keeps the id but marks it invalid. */
  valid: boolean;
  createdAt: number;
}

export interface Profile {
  nick?: string;
  faceUrl?: string;
  selfSignature?: string;
}

/** The emulated Tencent app: its conversations, plus robots, profiles and group message numbers. */
export class TencentState extends ChatState {
  readonly robots = new Map<string, Robot>();
  readonly profiles = new Map<string, Profile>();
  readonly #groupSeq = new Map<string, number>();

  /** The next `MsgSeq` of a group: groups number their messages one by one. */
  nextGroupSeq(groupId: string): number {
    const seq = (this.#groupSeq.get(groupId) ?? 0) + 1;
    this.#groupSeq.set(groupId, seq);
    return seq;
  }

  validRobot(userId: string): Robot | undefined {
    const robot = this.robots.get(userId);
    return robot?.valid ? robot : undefined;
  }

  validRobotCount(): number {
    let count = 0;
    for (const robot of this.robots.values()) if (robot.valid) count++;
    return count;
  }

  putRobot(userId: string): void {
    const robot = this.robots.get(userId);
    if (robot) robot.valid = true;
    else this.robots.set(userId, { userId, valid: true, createdAt: this.now() });
    this.addAccount(userId);
    this.emit('robots');
  }

  invalidateRobot(userId: string): void {
    const robot = this.robots.get(userId);
    if (robot) robot.valid = false;
    this.emit('robots');
  }

  setProfile(userId: string, profile: Profile): void {
    this.profiles.set(userId, { ...this.profiles.get(userId), ...profile });
    this.addAccount(userId);
    this.emit('robots');
  }

  override clear(): void {
    this.robots.clear();
    this.profiles.clear();
    this.#groupSeq.clear();
    super.clear();
  }
}
