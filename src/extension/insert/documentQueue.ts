// Edits to one document run one after the other. VS Code refuses a WorkspaceEdit built
// against a document version that another edit has since replaced, so two jobs finishing
// together must not both read the document before either has applied its edit.

const tails = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier `fn` queued for the same document key has settled. */
export function inDocumentQueue<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  // Forget the document once nothing is queued for it, so the map does not grow.
  void tail.then(() => tails.get(key) === tail && tails.delete(key));
  return run;
}
