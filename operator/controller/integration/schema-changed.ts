/**
 * The SchemaChanged condition of an Integration, from status.schemaChanges as the last sync
 * reported it. Pure; one of the conditions summary.ts computes. Ready does not follow it.
 */
import { ConditionType, Reason, type IntegrationStatus } from '../../api/index.ts';
import type { ConditionChange } from '../plan/conditions.ts';

/**
 * SchemaChanged (abnormal-true, always present): True naming the fields added and removed
 * (dotted paths for nested ones), False when the last sync saw none or no sync finished yet.
 */
export function schemaChangedCondition({
  status,
}: {
  status: Pick<IntegrationStatus, 'lastSync' | 'schemaChanges'>;
}): ConditionChange {
  const { added = [], removed = [], truncated } = status.schemaChanges ?? {};
  if (added.length === 0 && removed.length === 0) {
    return {
      type: ConditionType.SchemaChanged,
      status: 'False',
      reason: Reason.NoSchemaChanges,
      message: status.lastSync
        ? 'the last sync saw no field added to or removed from spec.schema'
        : 'no sync has finished yet',
    };
  }
  const lists = [
    ...(added.length > 0 ? [`added ${added.join(', ')}`] : []),
    ...(removed.length > 0 ? [`removed ${removed.join(', ')}`] : []),
  ];
  return {
    type: ConditionType.SchemaChanged,
    status: 'True',
    reason: Reason.SchemaChangesDetected,
    message:
      `live records differ from spec.schema: ${lists.join('; ')}` +
      `${truncated === true ? ' (and more)' : ''}; update spec.schema.properties to the ` +
      'new shape or get the source fixed (see status.schemaChanges)',
  };
}
