// tsconfig uses moduleResolution "node" (node10), which ignores package.json "exports", so
// 'vscode-jsonrpc/node' has no types for tsc. esbuild and Node resolve it through "exports".
declare module 'vscode-jsonrpc/node' {
  export * from 'vscode-jsonrpc/lib/node/main';
}
