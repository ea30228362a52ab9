// Keeps the engine's measured speed (seconds per step per megapixel) in workspaceState from
// every finished job, the lens's and the panel's too, so "Illustrate All Stubs" can say how long
// a course will take on this machine.

import type * as vscode from 'vscode';
import type { GenerateParams } from '../../core/protocol';
import type { Services } from '../services';
import { type Speed, parseSpeed, updateSpeed } from './courseQueue';

const SPEED_KEY = 'courseIllustrator.engineSpeed';

export function readSpeed(state: vscode.Memento): Speed | undefined {
  return parseSpeed(state.get(SPEED_KEY));
}

export function trackSpeed(services: Services, state: vscode.Memento): vscode.Disposable {
  // Steps and size are in the job's parameters, which only 'started' carries.
  const started = new Map<string, GenerateParams>();
  return services.engine.onJob((e) => {
    if (e.kind === 'started') started.set(e.jobId, e.params);
    if (e.kind !== 'finished' && e.kind !== 'failed') return;
    const params = started.get(e.jobId);
    started.delete(e.jobId);
    if (e.kind !== 'finished' || !params?.steps || !params.width || !params.height) return;
    const t = e.result.timings;
    const speed = updateSpeed(readSpeed(state), { steps: params.steps, width: params.width, height: params.height, images: e.result.images.length, totalMs: t.totalMs, loadMs: t.loadMs });
    if (speed) void state.update(SPEED_KEY, speed);
  });
}
