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

/**
 * 503 `not_ready` while the store fails commits (the group committer retries until it takes
 * them; /readyz reports `commits: false` meanwhile). Checked before a prompt is accepted and
 * before any other change (cancel, step mode, pause action, delete) is made: each answer needs
 * a commit, so the request is refused at once and changes nothing instead of hanging.
 */
export function assertStoreWritable(committer: { readonly healthy: boolean }): void {
  if (!committer.healthy) {
    throw new WebchatError('not_ready', 'the store is failing to write (for example, the disk is full); nothing was changed: retry later', { check: 'commits' });
  }
}
