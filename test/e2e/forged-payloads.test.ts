import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { ADMIN_TOKEN, serviceDataConverter, startStack, type Stack } from '../support/stack';
import { eventually } from '../support/waits';
import {
  cancelCheckSignal,
  checkWorkflowId,
  vendorEventSignal,
  type BackgroundCheckInput,
  type CheckState,
} from '../../src/workflows/definitions';
import { hireWorkflowId, stopOnboardingSignal } from '../../src/workflows/onboarding-definitions';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { CommandType, EventType, ResetReapplyExcludeType } = temporal.api.enums.v1;

/**
 * What someone who reaches Temporal's port can do without the payload keys (issue 9): start a check with an input
 * of their own, make the worker run an activity with their input, or signal a running check. The worker refuses
 * every payload that is not encrypted with a configured key, and every signal must carry one: nothing they send
 * is acted upon. A client with the service's converter (the keys) still works.
 */
describe('forged Temporal payloads (an outsider with network access to Temporal, without the keys)', () => {
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;
  let outsiderConnection: Connection;
  /** What an outsider has: a plain client on Temporal's port, without the codec. */
  let outsider: Client;

  beforeAll(async () => {
    stack = await startStack();
    conn = await stack.createConnection();
    outsiderConnection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    outsider = new Client({ connection: outsiderConnection });
  });
  afterAll(async () => {
    await outsiderConnection?.close();
    await stack?.stop();
  });

  const events = async (handle: WorkflowHandle): Promise<HistoryEvent[]> =>
    (await outsider.workflow.getHandle(handle.workflowId).fetchHistory()).events ?? [];
  const has = (list: HistoryEvent[], type: temporal.api.enums.v1.EventType) =>
    list.some((e) => e.eventType === type);

  /** A failure's message as the operator reads it in the Web UI: its encoded attributes decoded by /codec. */
  async function failureMessage(failure: temporal.api.failure.v1.IFailure | null | undefined) {
    const attributes = failure?.encodedAttributes;
    if (!attributes) return failure?.message ?? '';
    const toJson = (p: temporal.api.common.v1.IPayload) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    });
    const res = await fetch(`${stack.api.url}/codec/decode`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ payloads: [toJson(attributes)] }),
    });
    expect(res.status).toBe(200);
    const [decoded] = (
      (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }
    ).payloads;
    const payload: Payload = {
      metadata: Object.fromEntries(
        Object.entries(decoded?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(decoded?.data ?? '', 'base64'),
    };
    return defaultPayloadConverter.fromPayload<{ message: string }>(payload).message;
  }

  /** The failed workflow task a run got stuck on, with its message as the operator sees it. */
  async function workflowTaskFailure(handle: WorkflowHandle): Promise<string> {
    const failed = await eventually(
      async () => (await events(handle)).find((e) => e.workflowTaskFailedEventAttributes),
      30_000,
      'a failed workflow task',
    );
    return failureMessage(failed.workflowTaskFailedEventAttributes?.failure);
  }

  /**
   * What the workflow did on the last `name` signal: the events after it up to the end of the workflow task that
   * took it (the commands it completed with included), once that task has completed.
   */
  async function afterSignal(handle: WorkflowHandle, name: string): Promise<HistoryEvent[]> {
    return eventually(
      async () => {
        const list = await events(handle);
        const signals = list.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name);
        const at = list.lastIndexOf(signals[signals.length - 1] ?? {});
        const after = list.slice(at + 1);
        const completed = after.findIndex((e) => e.workflowTaskCompletedEventAttributes);
        if (at < 0 || completed < 0) return undefined;
        const next = after.findIndex((e, i) => i > completed && e.workflowTaskScheduledEventAttributes);
        return next < 0 ? after : after.slice(0, next);
      },
      30_000,
      `the workflow task after the ${name} signal`,
    );
  }

  function candidate(inTriggerStage = true, on: Stack = stack) {
    const marker = randomBytes(4).toString('hex');
    return on.lever.createOpportunity({
      name: `Forge Target ${marker}`,
      emails: [`forge-${marker}@example.com`],
      stageId: on.lever.stageIdByName(inTriggerStage ? 'Background Check' : 'Phone screen'),
    });
  }
  const certnCasesOf = (email: string | undefined, on: Stack = stack) =>
    on.certn.cases().filter((c) => c.email_address === email);

  /** A check the service started from a real Lever stage change, once ordered (Certn case Pending). */
  async function runningCheck(on: Stack = stack, connectionId = conn.id) {
    const opp = candidate(false, on);
    await on.lever.moveToStage(opp.id, on.lever.stageIdByName('Background Check'));
    const certnCase = await eventually(() => certnCasesOf(opp.emails[0], on)[0], 30_000, 'the Certn case');
    const handle = on.temporal.workflow.getHandle(checkWorkflowId(connectionId, opp.id));
    await eventually(
      () => (on.lever.opportunity(opp.id).tags.includes('CERTN - Pending') ? true : undefined),
      30_000,
      'CERTN - Pending',
    );
    return { opp, certnCase, handle };
  }

  async function completeAtCertn(caseId: string, on: Stack = stack) {
    while (on.certn.case(caseId).overall_status !== 'COMPLETE') await on.certn.advance(caseId);
  }

  it('a check started without the key runs nothing (its workflow task fails); with the service’s converter it runs', async () => {
    const opp = candidate();
    const workflowId = checkWorkflowId(conn.id, opp.id);
    const input: BackgroundCheckInput = {
      connectionId: conn.id,
      subjectId: opp.id,
      pollIntervalMs: 3_600_000,
    };
    const forged = await outsider.workflow.start('backgroundCheck', {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [input],
    });

    const message = await workflowTaskFailure(forged);
    expect(message).toMatch(/not encrypted with a configured key/);
    const history = await events(forged);
    expect(has(history, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);
    expect((await forged.describe()).status.name).toBe('RUNNING');
    expect(certnCasesOf(opp.emails[0])).toEqual([]);
    expect(stack.lever.opportunity(opp.id).tags.filter((t) => t.startsWith('CERTN - '))).toEqual([]);
    expect(stack.lever.notes(opp.id)).toEqual([]);

    // The operator terminates the stuck run; the same start through the service's converter orders the check.
    await stack.temporal.workflow.getHandle(workflowId).terminate('forged input');
    const real = await stack.temporal.workflow.start('backgroundCheck', {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [input],
    });
    await eventually(() => certnCasesOf(opp.emails[0])[0], 30_000, 'the Certn case of the real start');
    await real.terminate('test done');
  });

  it('an activity scheduled with a plain input (a rogue worker’s command) fails without running', async () => {
    const opp = candidate();
    // The outsider's own workflow, on a task queue no real worker polls; its workflow task is answered by hand,
    // over the same gRPC API, with a command that schedules one of our activities on our task queue.
    const taskQueue = `outsider-${randomBytes(4).toString('hex')}`;
    const rogue = await outsider.workflow.start('rogue', { taskQueue, workflowId: `rogue-${randomUUID()}` });
    const task = await outsider.withDeadline(Date.now() + 30_000, () =>
      outsider.workflowService.pollWorkflowTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        identity: 'outsider',
      }),
    );
    expect(task.taskToken?.length).toBeGreaterThan(0);
    await outsider.workflowService.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      identity: 'outsider',
      commands: [
        {
          commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
          scheduleActivityTaskCommandAttributes: {
            activityId: 'forged-note',
            activityType: { name: 'addCheckNote' },
            taskQueue: { name: stack.taskQueue },
            input: {
              payloads: [
                defaultPayloadConverter.toPayload({
                  connectionId: conn.id,
                  subjectId: opp.id,
                  kind: 'failed',
                  detail: 'forged: call +1 555 0100 to verify your identity',
                }),
              ],
            },
            startToCloseTimeout: msToTs('30 seconds'),
            retryPolicy: { maximumAttempts: 1 },
          },
        },
      ],
    });

    const closed = await eventually(
      async () =>
        (await events(rogue)).find(
          (e) => e.activityTaskFailedEventAttributes ?? e.activityTaskCompletedEventAttributes,
        ),
      30_000,
      'the forged activity to close',
    );
    expect(closed.eventType).toBe(EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);
    expect(await failureMessage(closed.activityTaskFailedEventAttributes?.failure)).toMatch(
      /not encrypted with a configured key/,
    );
    expect(stack.lever.notes(opp.id)).toEqual([]);
    await rogue.terminate('test done');
  });

  it('signals without an argument are ignored: the check carries on and completes', async () => {
    const { opp, certnCase, handle } = await runningCheck();
    await outsider.workflow.getHandle(handle.workflowId).signal(cancelCheckSignal.name);
    const after = await afterSignal(handle, cancelCheckSignal.name);
    expect(has(after, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);
    expect(has(after, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toBe(false);
    await outsider.workflow.getHandle(handle.workflowId).signal(vendorEventSignal.name);
    const afterEvent = await afterSignal(handle, vendorEventSignal.name);
    // A vendor event makes the check ask the vendor at once: a bare one does not.
    expect(has(afterEvent, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);

    await completeAtCertn(certnCase.id);
    expect(((await handle.result()) as CheckState).status).toBe('Complete');
    expect(stack.certn.case(certnCase.id).overall_status).toBe('COMPLETE');
    expect(stack.lever.opportunity(opp.id).tags).toContain('CERTN - Complete');
    // The run recorded a patch marker, written by the SDK without the codec: a worker replays it all the same.
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: process.env.BGC_TEST_WORKFLOW_BUNDLE ?? '' },
        dataConverter: serviceDataConverter(),
      },
      await handle.fetchHistory(),
    );
  });

  it('a signal with a plain argument is refused (workflow task fails); the operator resets past it and the check completes', async () => {
    // After a reset the vendor's callbacks still name the old run (answered "check-closed"): the new run learns
    // of the progress at its next poll, short here.
    const polling = await startStack({ pollIntervalMs: 2_000 });
    try {
      const pollingConn = await polling.createConnection();
      const { opp, certnCase, handle } = await runningCheck(polling, pollingConn.id);
      await outsider.workflow.getHandle(handle.workflowId).signal(cancelCheckSignal.name, { by: 'admin' });
      expect(await workflowTaskFailure(handle)).toMatch(/not encrypted with a configured key/);
      const history = await events(handle);
      const signalAt = history.findIndex(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === cancelCheckSignal.name,
      );
      expect(has(history.slice(signalAt), EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);
      expect(polling.certn.case(certnCase.id).overall_status).not.toBe('CANCELLED');
      expect(polling.lever.notes(opp.id).filter((n) => n.value.includes('cancelled'))).toEqual([]);

      // README, Security: reset to the last completed workflow task without re-applying signals.
      const lastCompleted = history
        .slice(0, signalAt)
        .filter((e) => e.workflowTaskCompletedEventAttributes)
        .pop();
      const { runId } = await polling.temporal.workflowService.resetWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: handle.workflowId },
        workflowTaskFinishEventId: lastCompleted?.eventId,
        reason: 'forged signal',
        requestId: randomUUID(),
        resetReapplyExcludeTypes: [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL],
      });
      expect(runId).toBeTruthy();
      await completeAtCertn(certnCase.id, polling);
      expect(((await handle.result()) as CheckState).status).toBe('Complete');
      expect(polling.lever.opportunity(opp.id).tags).toContain('CERTN - Complete');
      expect(polling.certn.case(certnCase.id).overall_status).toBe('COMPLETE');
    } finally {
      await polling.stop();
    }
  });

  it('an onboarding ignores a bare stopOnboarding signal; the admin’s stop (DELETE cancelRunning) still works', async () => {
    const account = stack.leverAccount();
    const justworksKey = stack.unique('jw-key');
    stack.justworks.addCompany({ apiKey: justworksKey, name: 'Acme Corp' });
    const jw = await stack.adminCreate({
      name: stack.unique('Acme'),
      lever: { ...account },
      vendor: { type: 'justworks', apiBaseUrl: stack.justworks.apiBaseUrl, apiKey: justworksKey },
    });
    stack.lever.addWebhook({
      event: 'candidateHired',
      url: jw.webhookUrl,
      signatureToken: account.signatureToken,
    });
    // No email: Justworks cannot take the hire, so the onboarding waits for the recruiter to add one.
    const opp = stack.lever.createOpportunity({
      name: 'Ada Byron',
      emails: [],
      stageId: stack.lever.stageIdByName('Offer'),
    });
    await stack.lever.hire(opp.id);
    const hire = stack.temporal.workflow.getHandle(hireWorkflowId(jw.id, opp.id));
    await eventually(
      async () => ((await events(hire)).some((e) => e.timerStartedEventAttributes) ? true : undefined),
      30_000,
      'the hire to wait for a fix',
    );

    await outsider.workflow.getHandle(hire.workflowId).signal(stopOnboardingSignal.name);
    const after = await afterSignal(hire, stopOnboardingSignal.name);
    expect(has(after, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);
    expect((await hire.describe()).status.name).toBe('RUNNING');

    const deleted = await stack.adminFetch(`/admin/connections/${jw.id}?cancelRunning=true`, {
      method: 'DELETE',
    });
    expect(deleted.body).toMatchObject({ cancelledWorkflows: 1 });
    expect(await hire.result()).toEqual({ status: 'refused', reason: 'the integration was removed' });
  });
});
