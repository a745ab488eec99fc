/**
 * The local runtime, loaded only by the commands that boot it, so `--help`, `test-pattern` and `--aws`
 * commands start without loading dynalite and the stages.
 */
export async function loadEmbeddedRuntime() {
  const [stack, embedded, observer] = await Promise.all([
    import('../local/stack.ts'),
    import('./backends/embedded.ts'),
    import('./run-observer.ts'),
  ]);
  return {
    startLocalStack: stack.startLocalStack,
    EmbeddedBackend: embedded.EmbeddedBackend,
    RunObserver: observer.RunObserver,
    collectSummary: observer.collectSummary,
  };
}
