/**
 * `tributary validate FILE...`: checks Integration and ReconcilePolicy manifests offline. YAML
 * syntax errors are reported with their line; every skipped document is named with the reason;
 * the summary counts valid, invalid and skipped documents.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { validateIntegration, validateReconcilePolicy } from '../api/index.ts';

/** The outcome of checking some files: lines for stdout and stderr, and the counts. */
export interface ValidateReport {
  out: string[];
  err: string[];
  valid: number;
  invalid: number;
  skipped: number;
  /** Non-zero on any invalid or unknown-kind document, an empty or unreadable file. */
  exitCode: number;
}

const KINDS = ['Integration', 'ReconcilePolicy'];

/** Checks the text of one file, adding to `report`. */
export function validateText(file: string, text: string, report: ValidateReport): void {
  const documents = parseAllDocuments(text);
  const real = documents.filter(
    (document) => document.contents !== null || document.errors.length > 0,
  );
  if (real.length === 0) {
    report.err.push(`${file}: no YAML documents`);
    report.exitCode = 1;
    return;
  }
  documents.forEach((document, index) => {
    const where = `${file}: document ${index + 1}`;
    if (document.errors.length > 0) {
      report.invalid++;
      for (const error of document.errors) {
        const line = error.linePos?.[0].line;
        report.err.push(
          `${file}:${line ?? '?'}: YAML syntax error: ${error.message.split('\n')[0] ?? ''}`,
        );
      }
      return;
    }
    if (document.contents === null) return;
    checkObject(where, document.toJS() as unknown, report);
  });
}

function checkObject(where: string, object: unknown, report: ValidateReport): void {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    report.skipped++;
    report.err.push(`${where}: skipped: not an object`);
    return;
  }
  const kind = (object as { kind?: unknown }).kind;
  if (kind === undefined) {
    report.skipped++;
    report.err.push(`${where}: skipped: missing kind`);
    return;
  }
  if (typeof kind !== 'string' || !KINDS.includes(kind)) {
    report.skipped++;
    report.exitCode = 1;
    report.err.push(
      `${where}: skipped: unknown kind ${JSON.stringify(kind)} (want ${KINDS.join(' or ')})`,
    );
    return;
  }
  const result =
    kind === 'Integration' ? validateIntegration(object) : validateReconcilePolicy(object);
  if (result.ok) {
    report.valid++;
    report.out.push(`${where}: ${kind} ${result.value.metadata.name}: valid`);
  } else {
    report.invalid++;
    for (const error of result.errors) report.err.push(`${where}: ${kind}: ${error}`);
  }
}

/** Checks `files`. */
export function validateFiles(files: string[]): ValidateReport {
  const report: ValidateReport = {
    out: [],
    err: [],
    valid: 0,
    invalid: 0,
    skipped: 0,
    exitCode: 0,
  };
  if (files.length === 0) {
    report.err.push('validate needs at least one FILE');
    report.exitCode = 1;
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      report.err.push(`${file}: cannot read: ${(error as Error).message}`);
      report.exitCode = 1;
      continue;
    }
    validateText(file, text, report);
  }
  if (report.invalid > 0) report.exitCode = 1;
  report.out.push(`${report.valid} valid, ${report.invalid} invalid, ${report.skipped} skipped`);
  return report;
}
