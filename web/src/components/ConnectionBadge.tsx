import type { ConnectionStatus } from '../transport/conversation-stream';

const LABEL: Record<ConnectionStatus, string> = {
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  deleted: 'Deleted',
  forbidden: 'No access',
};

export function ConnectionBadge({ status }: { status: ConnectionStatus }) {
  return (
    <span className={`conn conn-${status}`} data-testid="connection-status" data-status={status} role="status" aria-label={`Connection: ${LABEL[status]}`}>
      <span className="conn-dot" aria-hidden="true" />
      {LABEL[status]}
    </span>
  );
}
