import type { Pool } from 'pg';
import { WebhookInbox } from '../../db/inbox';
import { inTransaction } from '../../db/pool';
import { z } from 'zod';

/** Ashby's starts in the inbox (`webhook_inbox`): source `ashby`, the assessment's id as token, this event. */
export const ASSESSMENT_START_EVENT = 'assessment.start';
export const recordedAssessmentSchema = z.object({ assessmentId: z.string().min(1) });

/** An earlier assessment of the same candidate and package, and whether its start is still to be made. */
export interface EarlierAssessment {
  id: string;
  workflowId: string;
  /** Recorded, its workflow not started yet (the inbox row is unprocessed). */
  startPending: boolean;
}

const candidateSchema = z.object({
  firstName: z.string(),
  lastName: z.string(),
  email: z.string().nullable(),
  profileUrl: z.string().nullable(),
});
export type AssessmentCandidate = z.infer<typeof candidateSchema>;

const rowSchema = z.object({
  id: z.string(),
  connection_id: z.string(),
  candidate_ashby_id: z.string(),
  assessment_type_id: z.string(),
  candidate: candidateSchema,
  job: z.object({ name: z.string().nullable() }).nullable(),
  workflow_id: z.string(),
});

export interface Assessment {
  id: string;
  connectionId: string;
  candidateAshbyId: string;
  assessmentTypeId: string;
  candidate: AssessmentCandidate;
  jobName: string | null;
  workflowId: string;
}

function toAssessment(row: unknown): Assessment {
  const r = rowSchema.parse(row);
  return {
    id: r.id,
    connectionId: r.connection_id,
    candidateAshbyId: r.candidate_ashby_id,
    assessmentTypeId: r.assessment_type_id,
    candidate: r.candidate,
    jobName: r.job?.name ?? null,
    workflowId: r.workflow_id,
  };
}

/** Assessments Ashby started with us, with the candidate details the vendor order needs. */
export class AssessmentRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Runs `fn` holding a transaction lock on one candidate and package of a connection, so two concurrent starts
   * cannot both see "nothing running". `fn` gets the earlier assessments and `record`, which inserts an assessment
   * together with its start in the inbox (held `holdMs` for the request): both commit with the transaction, so an
   * assessment Ashby is told about always has its start recorded (the inbox relay makes it when the request could
   * not). `record` returns the inbox row's id.
   */
  async withCandidateLock<T>(
    key: { connectionId: string; candidateAshbyId: string; assessmentTypeId: string },
    fn: (
      earlier: EarlierAssessment[],
      record: (a: Assessment, holdMs: number) => Promise<string>,
    ) => Promise<T>,
  ): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `${key.connectionId}/${key.candidateAshbyId}/${key.assessmentTypeId}`,
      ]);
      const earlier = await client.query<{ id: string; workflow_id: string; start_pending: boolean }>(
        `SELECT a.id, a.workflow_id, EXISTS (
           SELECT 1 FROM webhook_inbox i
           WHERE i.connection_id = a.connection_id AND i.source = 'ashby' AND i.token = a.id
             AND i.processed_at IS NULL
         ) AS start_pending
         FROM ashby_assessments a
         WHERE a.connection_id = $1 AND a.candidate_ashby_id = $2 AND a.assessment_type_id = $3`,
        [key.connectionId, key.candidateAshbyId, key.assessmentTypeId],
      );
      return fn(
        earlier.rows.map((r) => ({ id: r.id, workflowId: r.workflow_id, startPending: r.start_pending })),
        async (a, holdMs) => {
          await this.insert(a, client);
          const { row } = await new WebhookInbox(this.pool).record(
            {
              connectionId: a.connectionId,
              source: 'ashby',
              token: a.id,
              event: ASSESSMENT_START_EVENT,
              triggeredAt: new Date(),
              data: { assessmentId: a.id } satisfies z.infer<typeof recordedAssessmentSchema>,
            },
            holdMs,
            client,
          );
          return row.id;
        },
      );
    });
  }

  private async insert(a: Assessment, db: Pick<Pool, 'query'>): Promise<void> {
    await db.query(
      `INSERT INTO ashby_assessments (id, connection_id, candidate_ashby_id, assessment_type_id, candidate, job, workflow_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        a.id,
        a.connectionId,
        a.candidateAshbyId,
        a.assessmentTypeId,
        JSON.stringify(a.candidate),
        JSON.stringify({ name: a.jobName }),
        a.workflowId,
      ],
    );
  }

  async find(connectionId: string, id: string): Promise<Assessment | undefined> {
    const result = await this.pool.query(
      'SELECT * FROM ashby_assessments WHERE connection_id = $1 AND id = $2',
      [connectionId, id],
    );
    return result.rowCount === 0 ? undefined : toAssessment(result.rows[0]);
  }
}
