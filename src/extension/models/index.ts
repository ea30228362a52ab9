// The models part of the extension: commands, first-run choice and typed models/* calls.
export { registerModelCommands, downloadWithProgress } from './modelCommands';
export { ensureModel } from './ensureModel';
export { modelsApiFor, inProcessModelsApi, ModelsCallError } from './modelsApi';
export type { ModelsApi } from './modelsApi';
