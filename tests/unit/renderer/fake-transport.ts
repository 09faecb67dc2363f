/**
 * A Transport for the page's stores under test: it records every request and answers each with the next answer
 * the test queued for its type, takes uploads and dropped files, and lets the test send backend events and
 * lose the connection.
 */

import type { Answer, BackendEvent, DatasetRole, Request, Response } from '@core/shared/contract';
import type { Transport } from '../../../src/renderer/src/lib/transport';

type RequestType = Request['type'];

export class FakeTransport implements Transport {
  readonly requests: Request[] = [];
  /** Files uploaded (browser host), in order. */
  readonly uploads: File[] = [];
  /** Files dropped on the window (desktop app), with the card they were dropped on. */
  readonly dropped: { files: readonly unknown[]; role: DatasetRole | null }[] = [];
  /** Set to make uploads fail with this message. */
  uploadError: string | null = null;
  private readonly queued = new Map<RequestType, Promise<Response>[]>();
  private readonly droppedAnswers: Response[] = [];
  private readonly eventListeners = new Set<(event: BackendEvent) => void>();
  private readonly disconnectListeners = new Set<(message: string) => void>();

  constructor(readonly kind: 'electron' | 'browser' = 'electron') {}

  /** Queues answers for the next requests of this type, in order; a promise answers when the test settles it. */
  answer<T extends RequestType>(type: T, ...answers: (Answer<T> | Promise<Answer<T>>)[]): void {
    const queue = this.queued.get(type) ?? [];
    queue.push(...answers.map((answer) => Promise.resolve(answer)));
    this.queued.set(type, queue);
  }

  /** Queues the answer to the next files dropped (desktop app). */
  answerDropped(answer: Response): void {
    this.droppedAnswers.push(answer);
  }

  /** The requests of one type, in the order sent. */
  sent<T extends RequestType>(type: T): Extract<Request, { type: T }>[] {
    return this.requests.filter((request): request is Extract<Request, { type: T }> => request.type === type);
  }

  async request<R extends Request>(request: R): Promise<Answer<R['type']>> {
    this.requests.push(request);
    const answer = this.queued.get(request.type)?.shift();
    // A request the test did not expect fails loudly (as an unhandled rejection when the store does not await it).
    if (!answer) throw new Error(`no answer queued for ${request.type}`);
    return (await answer) as Answer<R['type']>;
  }

  onEvent(listener: (event: BackendEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Sends an event from the backend to every listener. */
  emit(event: BackendEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  onDisconnect(listener: (message: string) => void): void {
    this.disconnectListeners.add(listener);
  }

  disconnect(message: string): void {
    for (const listener of this.disconnectListeners) listener(message);
  }

  async upload(file: File): Promise<string> {
    if (this.uploadError) throw new Error(this.uploadError);
    this.uploads.push(file);
    return String(this.uploads.length).padStart(32, '0');
  }

  async openDropped(files: readonly unknown[], role: DatasetRole | null): Promise<Response> {
    this.dropped.push({ files, role });
    const answer = this.droppedAnswers.shift();
    if (!answer) throw new Error('no answer queued for dropped files');
    return answer;
  }
}

/** A promise the test settles when it chooses (an answer still on its way). */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/**
 * Lets work a store started without awaiting it (a menu command, the histories after a listing) finish with the
 * answers already given: Node runs every pending promise reaction before an immediate.
 */
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
