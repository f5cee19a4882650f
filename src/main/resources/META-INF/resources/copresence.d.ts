// Types of copresence.js (wire protocol v1). See docs/client.md.

export interface User { id: string; name?: string }
export interface Member { id: string; user: User; state: Record<string, unknown>; typing: boolean; joinedAt: number }

export interface Options {
  user?: string;
  name?: string;
  token?: string;
  /** Called before each (re)connection for a fresh token (jwt mode). */
  getToken?: () => string | Promise<string>;
  /** The WebSocket constructor (e.g. the `ws` package in Node); the global one by default. */
  WebSocket?: unknown;
  random?: () => number;
  backoffInitial?: number;
  backoffMax?: number;
  stableAfter?: number;
  queueSize?: number;
  pingAfter?: number;
  pongTimeout?: number;
  typingIdle?: number;
  typingRefresh?: number;
  coalesce?: number;
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

declare class Emitter<Events extends Record<string, (...args: any[]) => void>> {
  on<E extends keyof Events>(event: E, fn: Events[E]): () => void;
  off<E extends keyof Events>(event: E, fn: Events[E]): void;
  once<E extends keyof Events>(event: E, fn: Events[E]): () => void;
}

export interface DocEvents {
  members: (members: Member[], info: { resumed?: boolean; self: string }) => void;
  join: (member: Member) => void;
  leave: (member: Member, reason: 'left' | 'closed' | 'timeout') => void;
  update: (member: Member) => void;
  typing: (event: { member: string; user: string; typing: boolean }) => void;
  broadcast: (event: { from: string; data: unknown; offset: string }) => void;
  signal: (event: { from: string; data: unknown }) => void;
  [event: string]: (...args: any[]) => void;
}

export declare class CopresenceDoc extends Emitter<DocEvents> {
  readonly id: string;
  readonly members: Map<string, Member>;
  ready(): Promise<void>;
  update(partial: Record<string, unknown>): Promise<void>;
  updateSoon(partial: Record<string, unknown>): void;
  cursor(position: unknown): void;
  typing(on?: boolean): void;
  broadcast(data: unknown, options?: { echo?: boolean }): Promise<void>;
  signal(to: string, data: unknown): Promise<void>;
  leave(): Promise<void>;
}

export interface ClientEvents {
  state: (state: ConnectionState) => void;
  status: (event: { user: string; online: boolean; lastSeen?: number }) => void;
  error: (error: { code: string; message: string; closeCode?: number }) => void;
  close: (event: { code: number; reason?: string }) => void;
  reconnect: (event: { attempt: number; delay: number }) => void;
  message: (message: Record<string, unknown>) => void;
  [event: string]: (...args: any[]) => void;
}

export declare function backoffDelay(attempt: number,
  options?: { initial?: number; max?: number; random?: () => number }): number;

export declare class Copresence extends Emitter<ClientEvents> {
  constructor(url: string, options?: Options);
  readonly state: ConnectionState;
  readonly connected: boolean;
  readonly queued: number;
  join(doc: string, options?: { state?: Record<string, unknown> }): CopresenceDoc;
  watch(users: string[]): void;
  unwatch(users: string[]): void;
  close(): void;
}

export default Copresence;
