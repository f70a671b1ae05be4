import { useState } from 'react';
import { api, describeError } from '../api/client';

/**
 * Step mode (operator control): the run pauses after each model turn with pending tools and
 * after tools run; the pause cards offer the actions of their phase. The state shown is the
 * server's (`step.mode` frames), so every tab agrees. On a new chat (`convId` null) the
 * conversation does not exist yet: the switch is kept here and the first prompt carries it
 * (`request_overrides.step_mode`), so that prompt already runs stepped.
 */
export function StepToggle({ convId, enabled, onLocalToggle, onError }: {
  convId: string | null;
  enabled: boolean;
  onLocalToggle: (enabled: boolean) => void;
  onError: (message: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const toggle = () => {
    if (!convId) return onLocalToggle(!enabled);
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
