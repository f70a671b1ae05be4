import { useState } from 'react';
import { api, describeError } from '../api/client';

/**
 * Step mode (operator control): the run pauses after each model turn with pending tools and
 * after tools run; the pause cards offer the actions of their phase. The state shown is the
 * server's (`step.mode` frames), so every tab agrees. On a new chat (`convId` null) switching
 * it on first gives the chat its id (`ensureConv`), so the first prompt already runs stepped.
 */
export function StepToggle({ convId, ensureConv, enabled, onError }: { convId: string | null; ensureConv: () => string; enabled: boolean; onError: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  const toggle = () => {
    setBusy(true);
    api.setStepMode(convId ?? ensureConv(), !enabled).then(
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
