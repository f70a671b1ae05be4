const SUGGESTIONS = [
  { label: 'Use a tool', prompt: 'What is (4*5)-1?' },
  { label: 'Stream a long answer', prompt: '/stream 60 20' },
  { label: 'Several tool calls', prompt: '/tools 3' },
  { label: 'Show reasoning', prompt: '/think' },
];

/** The empty conversation: what to try (the demo profile's commands). */
export function Welcome({ onPick }: { onPick: (prompt: string) => void }) {
  return (
    <div className="welcome" data-testid="welcome">
      <div className="welcome-mark" aria-hidden="true" />
      <h1>What can I help with?</h1>
      <p>Answers stream live, tools show their work, and you can stop, reload or open another tab at any time without losing a word.</p>
      <div className="suggestions">
        {SUGGESTIONS.map((s) => (
          <button key={s.prompt} type="button" className="suggestion" onClick={() => onPick(s.prompt)}>
            <span className="suggestion-label">{s.label}</span>
            <code>{s.prompt}</code>
          </button>
        ))}
      </div>
    </div>
  );
}
