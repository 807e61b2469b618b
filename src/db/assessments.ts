import type { Pool } from 'pg';
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

  async create(a: Assessment): Promise<void> {
    await this.pool.query(
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

  async delete(id: string): Promise<void> {
    await this.pool.query('DELETE FROM ashby_assessments WHERE id = $1', [id]);
  }

  async find(connectionId: string, id: string): Promise<Assessment | undefined> {
    const result = await this.pool.query(
      'SELECT * FROM ashby_assessments WHERE connection_id = $1 AND id = $2',
      [connectionId, id],
    );
    return result.rowCount === 0 ? undefined : toAssessment(result.rows[0]);
  }
}
