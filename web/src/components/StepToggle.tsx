import { useState } from 'react';
import { api, describeError } from '../api/client';

/**
 * Step mode (operator control): the run pauses after each model turn with pending tools and
 * after tools run; the pause cards offer Continue / Deny / Abort. The state shown is the
 * server's (`step.mode` frames), so every tab agrees.
 */
export function StepToggle({ convId, enabled, onError }: { convId: string; enabled: boolean; onError: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  const toggle = () => {
    setBusy(true);
    api.setStepMode(convId, !enabled).then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        onError(`Step mode: ${describeError(err)}`);
      },
    );
  };
  return (
    <button
      type="button"
      role="switch"
      aria-checked={enabled}
      className={`step-toggle ${enabled ? 'on' : ''}`}
      onClick={toggle}
      disabled={busy}
      data-testid="step-mode-toggle"
      title="Step mode: pause before and after tool calls"
      aria-label="Step mode"
    >
      <span className="switch" aria-hidden="true">
        <span className="knob" />
      </span>
      Step
    </button>
  );
}
