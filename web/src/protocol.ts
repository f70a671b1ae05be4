/**
 * The UI's only window onto `src/`: the wire shapes (zod schemas + types) of `src/protocol`.
 * Nothing here is redefined; everything the UI knows about the wire comes through this file.
 */
export {
  CLOSE_CODES,
  EnvelopeSchema,
  FrameData,
  TimelineSnapshot,
  ConversationList,
  ChatResponse,
  CancelResponse,
  PauseActionResponse,
  ProfileInfo,
  ErrorBody,
  entityIds,
  envelope,
  CONV_ID_PATTERN,
} from '../../src/protocol';
export type {
  AnyEnvelope,
  AnyFrameEvent,
  ConversationSummary,
  ChatRequest,
  FrameType,
  FrameDataOf,
  PauseAction,
  PausePhase,
  RunError,
  TimelineEntity,
  ToolStatus,
} from '../../src/protocol';
