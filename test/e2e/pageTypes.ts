// Callbacks passed to page.evaluate run in the browser, but the test project compiles without the
// DOM lib (it is Node code). Inside those callbacks, browser globals are reached through `inPage()`.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type InPage = any;

/** Use only inside page.evaluate / locator.evaluate callbacks: `const w: InPage = globalThis;`. */
export interface PageImage {
  src: string;
  naturalWidth: number;
  decode(): Promise<void>;
}
