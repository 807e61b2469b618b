/**
 * The end-to-end benchmark's floor: a workflow with the shape of a background check (the same number of
 * activities, timers and signals, counted from real checks' histories in the same run) that does nothing else.
 * Deterministic workflow code: only the workflow API.
 */
import { condition, defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type * as activities from './activities';

export interface FloorShape {
  activities: number;
  timers: number;
  signals: number;
}

export const floorSignal = defineSignal<[number]>('floorSignal');

const { nothing } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export async function floorCheck(shape: FloorShape): Promise<void> {
  let received = 0;
  setHandler(floorSignal, () => {
    received += 1;
  });
  const steps = Math.max(shape.activities, shape.timers, shape.signals);
  for (let i = 0; i < steps; i++) {
    if (i < shape.activities) await nothing();
    if (i < shape.timers) await sleep(1);
    if (i < shape.signals) await condition(() => received > i);
  }
}
