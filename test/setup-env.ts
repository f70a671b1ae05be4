// Tests never reach the internet: provider keys and base URLs are removed from the environment
// before any test file loads, so an SDK can only talk to the local replay servers a test starts.
for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|ANTHROPIC|GEMINI|GOOGLE)_/.test(name)) delete process.env[name];
}
process.env.WEBCHAT_LOG_LEVEL ??= 'silent';
