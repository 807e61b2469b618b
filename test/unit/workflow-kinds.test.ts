import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/temporal/search-attributes';
import { integrationFor, integrationNames } from '../../src/vendors';
import * as workflows from '../../src/workflows';
import { WORKFLOW_KINDS } from '../../src/workflows/kinds';

const connection = { id: 'conn_1', vendor: 'certn' };
const options = { pollIntervalMs: 60_000, maxAttempts: 5 };
const pairs = (attributes: { key: { name: string }; value: unknown }[]) =>
  attributes.map(({ key, value }) => [key.name, value]);

describe('workflow kinds', () => {
  it('name a workflow the worker registers, by the same name', () => {
    for (const [name, kind] of Object.entries(WORKFLOW_KINDS)) {
      expect(kind.workflowType).toBe(name);
      expect(typeof workflows[kind.workflowType]).toBe('function');
    }
  });

  it('cover every integration: each names a kind of the registry', () => {
    for (const vendor of integrationNames()) {
      expect(Object.keys(WORKFLOW_KINDS)).toContain(integrationFor(vendor)?.workflow);
    }
  });

  it('a check: one per subject at a time, again once finished, with its input and start attributes', () => {
    const kind = WORKFLOW_KINDS.backgroundCheck;
    expect(kind.workflowId('conn_1', 'opp_1')).toBe('check:conn_1:opp_1');
    expect(kind.idReusePolicy).toBe('ALLOW_DUPLICATE');
    expect(kind.input(connection, 'opp_1', options)).toEqual({
      connectionId: 'conn_1',
      subjectId: 'opp_1',
      pollIntervalMs: 60_000,
      maxAttempts: 5,
    });
    expect(pairs(kind.startAttributes(connection))).toEqual([
      ['BgcKind', 'backgroundCheck'],
      ['BgcConnection', 'conn_1'],
      ['BgcVendor', 'certn'],
    ]);
  });

  it('a hire: once ever, with its own status attribute from the start, never BgcStatus', () => {
    const kind = WORKFLOW_KINDS.onboardHire;
    const hireConnection = { id: 'conn_2', vendor: 'justworks' };
    expect(kind.workflowId('conn_2', 'opp_2')).toBe('hire:conn_2:opp_2');
    expect(kind.idReusePolicy).toBe('REJECT_DUPLICATE');
    expect(kind.input(hireConnection, 'opp_2', options)).toEqual({
      connectionId: 'conn_2',
      opportunityId: 'opp_2',
      maxAttempts: 5,
    });
    expect(pairs(kind.startAttributes(hireConnection))).toEqual([
      ['BgcKind', 'onboardHire'],
      ['BgcConnection', 'conn_2'],
      ['BgcVendor', 'justworks'],
      ['BgcHireStatus', 'Running'],
    ]);
  });

  it('start only with registered search attributes', () => {
    const registered = SEARCH_ATTRIBUTE_KEYS.map((key) => key.name);
    for (const kind of Object.values(WORKFLOW_KINDS)) {
      for (const { key } of kind.startAttributes(connection)) expect(registered).toContain(key.name);
    }
  });

  it('the registry imports the workflows only as types (the API does not load workflow code through it)', () => {
    const source = readFileSync(path.join(__dirname, '../../src/workflows/kinds.ts'), 'utf8');
    const imports = [...source.matchAll(/^import (type )?[^;]*?from '([^']+)';$/gm)];
    const runtime = imports.filter(([, type]) => type === undefined).map(([, , from]) => from);
    expect(runtime.sort()).toEqual(['../domain/workflow-ids', '../temporal/search-attributes']);
  });
});
