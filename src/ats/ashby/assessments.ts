import type { Pool } from 'pg';
import { inTransaction } from '../../db/pool';
import { z } from 'zod';

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
   * cannot both see "nothing running". `fn` gets the workflow IDs of earlier assessments and an insert that
   * commits with the transaction.
   */
  async withCandidateLock<T>(
    key: { connectionId: string; candidateAshbyId: string; assessmentTypeId: string },
    fn: (earlierWorkflowIds: string[], insert: (a: Assessment) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `${key.connectionId}/${key.candidateAshbyId}/${key.assessmentTypeId}`,
      ]);
      const earlier = await client.query<{ workflow_id: string }>(
        `SELECT workflow_id FROM ashby_assessments
         WHERE connection_id = $1 AND candidate_ashby_id = $2 AND assessment_type_id = $3`,
        [key.connectionId, key.candidateAshbyId, key.assessmentTypeId],
      );
      return fn(
        earlier.rows.map((r) => r.workflow_id),
        (a) => this.insert(a, client),
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
