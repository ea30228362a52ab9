// The engine's version, written into every image's metadata.
// Kept in step with package.json by a test (test/engine/version.test.ts).
export const VERSION = '0.1.0';
