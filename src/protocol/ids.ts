import { z } from 'zod';

/** `conv_id` (= `session_id`): stable, URL-safe, at most 128 characters. */
export const CONV_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const ConvId = z.string().regex(CONV_ID_PATTERN, 'conv_id must match ^[A-Za-z0-9_-]{1,128}$');

/** Protocol version announced in `ws.hello`. */
export const PROTOCOL_VERSION = 1;

/** Derived entity ids (spec README "Identifiers"). */
export const entityIds = {
  userMessage: (turnId: string) => `user-${turnId}`,
  thinking: (messageId: string) => `${messageId}:thinking`,
  toolResult: (toolCallId: string) => `${toolCallId}:result`,
  queue: (turnId: string) => `queue:${turnId}`,
  stepMode: (convId: string) => `step:${convId}`,
} as const;
