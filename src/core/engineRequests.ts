// The engine/* requests and notifications, each defined once for both ends (as
// vscode-languageserver-node's RequestType): the method name with the validators of its params
// and its reply. Kept apart from protocol.ts so that the shapes and the requests that use
// them (importProtocol.ts, translateProtocol.ts, convertProtocol.ts) import no cycle.

import { noParams, noResult, validateCancelParams, validateCancelResult, validateEngineOptions, validateGenerateParams, validateGenerateResult, validateInfoParams, validateInfoResult, validateLogEvent, validateProgressEvent, validateQueueEvent, validateStatusResult, validateThumbnailParams, validateThumbnailResult, validateTokenizeParams, validateTokenizeResult } from './protocol';
import { validateConvertParams, validateConvertResult } from './convertProtocol';
import { validateImportImageParams, validateImportImageResult } from './importProtocol';
import { notificationType, requestType } from './rpc';
import { validateTranslateParams, validateTranslateResult } from './translateProtocol';

export const EngineRequests = {
  /** Sent first, once per engine process; the engine options are fixed from then on. */
  initialize: requestType('engine/initialize', validateEngineOptions, validateStatusResult),
  generate: requestType('engine/generate', validateGenerateParams, validateGenerateResult),
  tokenize: requestType('engine/tokenize', validateTokenizeParams, validateTokenizeResult),
  info: requestType('engine/info', validateInfoParams, validateInfoResult),
  thumbnail: requestType('engine/thumbnail', validateThumbnailParams, validateThumbnailResult),
  status: requestType('engine/status', noParams, validateStatusResult),
  /** Drops a queued job at once, or stops a running one before its next step. */
  cancel: requestType('engine/cancel', validateCancelParams, validateCancelResult),
  shutdown: requestType('engine/shutdown', noParams, noResult),
  /** Writes an image made by a server with our metadata and labels (importProtocol.ts). */
  importImage: requestType('engine/import', validateImportImageParams, validateImportImageResult),
  /** Chinese runs of a prompt in English, by a local Marian model (translateProtocol.ts). */
  translate: requestType('engine/translate', validateTranslateParams, validateTranslateResult),
  /** A copy of an image as PNG, JPEG or WebP, its parameters and XMP label kept (convertProtocol.ts). */
  convert: requestType('engine/convert', validateConvertParams, validateConvertResult),
};

/** Engine -> client. */
export const EngineNotifications = {
  progress: notificationType('engine/progress', validateProgressEvent),
  queue: notificationType('engine/queue', validateQueueEvent),
  log: notificationType('engine/log', validateLogEvent),
};
