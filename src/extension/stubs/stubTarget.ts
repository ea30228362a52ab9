// Where the image for a stub goes, as its lens puts it: in place of an empty link, in place of
// the image line under a directive, or on a new line under a directive without one.

import type * as vscode from 'vscode';
import type { ImageStub } from '../../core/stubs';
import type { InsertTarget } from '../services';
import { toRange } from './documentStubs';

export function stubInsertTarget(uri: vscode.Uri, stub: ImageStub): InsertTarget {
  if (stub.kind === 'empty-link') return { uri, range: toRange(stub.range) };
  if (stub.image) return { uri, range: toRange(stub.image.range) };
  return { uri, lineAfter: stub.range.line };
}
