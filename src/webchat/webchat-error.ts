import { HTTP_ERRORS, type HttpErrorCode } from '../protocol/errors';

/** A request the webchat layer refuses, with a stable code from protocol.md's error table. */
export class WebchatError extends Error {
  constructor(readonly code: HttpErrorCode, message: string, readonly details: Record<string, unknown> | null = null) {
    super(message);
    this.name = 'WebchatError';
  }
  get status(): number {
    return HTTP_ERRORS[this.code];
  }
}

export const isWebchatError = (e: unknown): e is WebchatError => e instanceof WebchatError;
