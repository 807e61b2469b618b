import type { AssessmentRepository } from '../db/assessments';
import { AshbyClient, resultUpdate, statusUpdate } from '../integrations/ashby/client';
import type { CandidateSnapshot, CheckVendorAdapter } from '../vendors/types';
import type { AtsSide } from './types';

/** An Ashby assessment as the subject of a check: progress goes to Ashby through assessment.update. */
export class AshbySide implements AtsSide {
  constructor(
    private readonly ashby: AshbyClient,
    private readonly assessments: AssessmentRepository,
    private readonly connectionId: string,
    private readonly assessmentId: string,
  ) {}

  async snapshot(): Promise<CandidateSnapshot> {
    const assessment = await this.assessments.find(this.connectionId, this.assessmentId);
    if (assessment === undefined) throw new Error(`assessment ${this.assessmentId} is not recorded`);
    return {
      firstName: assessment.candidate.firstName,
      lastName: assessment.candidate.lastName,
      email: assessment.candidate.email,
      phone: null,
      location: null,
      tags: [],
      position:
        assessment.jobName === null
          ? null
          : { title: assessment.jobName, department: null, team: null, location: null, tags: [] },
      requestedPackageId: assessment.assessmentTypeId,
    };
  }

  async publishStatus(
    adapter: CheckVendorAdapter,
    _settings: unknown,
    update: Parameters<AtsSide['publishStatus']>[2],
  ) {
    const label = adapter.ashby?.statusFor(update.status) ?? null;
    // Complete is sent with the result URL by publishResults: Ashby needs both in one update.
    if (label === null || update.status === 'Complete') return label;
    await this.ashby.updateAssessment(statusUpdate(this.assessmentId, label, update.at));
    return label;
  }

  async publishResults(_adapter: CheckVendorAdapter, update: Parameters<AtsSide['publishResults']>[1]) {
    if (update.status !== 'Complete' || update.results.url === null) return;
    await this.ashby.updateAssessment(
      resultUpdate({
        assessmentId: this.assessmentId,
        resultUrl: update.results.url,
        timestamp: update.at,
        result: update.results.lines[0] ?? 'Complete',
      }),
    );
  }

  /** Ashby assessments have no notes; what a Lever note would say shows in the assessment status instead. */
  async addNote(): Promise<void> {}
}
