/**
 * Answers as a test reads them off a wire (IPC, WebSocket, worker messages), where the request's type is not
 * known to the compiler: every field some answer may carry, each optional.
 */

import type { Answers, Backend, Refusal, WorkerRequest } from '@core/shared/contract';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

export type WireAnswer = ({ ok: true } & Partial<UnionToIntersection<Answers[keyof Answers]>>) | Refusal;

/** A stand-in for the training worker that answers each request as the test chooses. */
export function standInBackend(answer: (request: WorkerRequest) => WireAnswer | Promise<WireAnswer>): Backend {
  // The test picks each answer; the compiler cannot check it against the request's type.
  return { request: async (request) => (await answer(request)) as never };
}
