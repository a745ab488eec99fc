import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditBooksBalanced, balanceAuditTrail } from '../../src/local/runtime/audit-books.ts';

const processed = {
  event_id: 'e1',
  timestamp: 1,
  status: 'NOTIFIED',
  processed_at: 10,
  revision: 1,
  alerts: { jump: { status: 'SENT' }, cross: { status: 'SILENCED' }, level: { status: 'SENDING' } },
};
const rejected = { event_id: 'e2', timestamp: 0, status: 'REJECTED' };
const trail = [
  { event_id: 'e1', stage: 'ingestion', status: 'INGESTED' },
  { event_id: 'e1', stage: 'processing', status: 'PROCESSED' },
  { event_id: 'e1', stage: 'processing', status: 'REVISED', occurrence: '1' },
  { event_id: 'e1', stage: 'notification', status: 'NOTIFIED', occurrence: 'jump' },
  { event_id: 'e1', stage: 'notification', status: 'SILENCED', occurrence: 'cross' },
  {
    event_id: 'e1',
    stage: 'notification',
    status: 'RETRIED',
    occurrence: 'alert jump delivery d-1 attempt 2',
  },
  { event_id: 'e2', stage: 'ingestion', status: 'REJECTED' },
];

describe('the audit trail books', () => {
  it('balance when every step the items show has one record', () => {
    const books = balanceAuditTrail([processed, rejected], trail);
    assert.deepEqual(books, { records: 7, missing: [], repeated: [], orphans: [] });
    assert.equal(auditBooksBalanced(books), true);
  });

  it('name a step without its record, a record written twice and a record of no event', () => {
    const books = balanceAuditTrail(
      [processed, rejected],
      [
        ...trail.filter((record) => record.status !== 'PROCESSED'),
        { event_id: 'e1', stage: 'ingestion', status: 'INGESTED' },
        { event_id: 'gone', stage: 'ingestion', status: 'INGESTED' },
      ],
    );
    assert.deepEqual(books.missing, ['e1 processing PROCESSED']);
    assert.deepEqual(books.repeated, [{ record: 'e1 ingestion INGESTED', times: 2 }]);
    assert.deepEqual(books.orphans, ['gone ingestion INGESTED']);
    assert.equal(auditBooksBalanced(books), false);
  });

  it('ask for a revision record per revision and one record per alert sent or silenced, by rule', () => {
    const books = balanceAuditTrail([{ ...processed, revision: 2 }], trail);
    assert.deepEqual(books.missing, ['e1 processing REVISED 2']);
    const noSilence = balanceAuditTrail(
      [processed],
      trail.filter((record) => record.status !== 'SILENCED'),
    );
    assert.deepEqual(noSilence.missing, ['e1 notification SILENCED cross']);
  });
});
