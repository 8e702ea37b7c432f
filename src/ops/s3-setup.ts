// `chute s3:setup`: what the bucket needs for the browser flow, applied idempotently. The current
// CORS and lifecycle configurations are read first; Chute's own rules (known by their IDs) are
// added or replaced, anyone else's rules are kept, and nothing is written when nothing differs.
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  type BucketLocationConstraint,
  type CORSRule,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { createS3Client } from '../core/storage/s3.js';
import { S3SetupError, s3SettingsFor } from './s3-setup-error.js';

export const CORS_RULE_ID = 'chute-browser-upload';
export const LIFECYCLE_RULE_ID = 'chute-abort-incomplete-multipart';
export const DEFAULT_ABORT_INCOMPLETE_DAYS = 7;

export { S3SetupError };

export interface S3SetupOptions {
  client: S3Client;
  bucket: string;
  region: string;
  /** origins the browser flow runs on: APP_DOMAIN's and CORS_ALLOWED_ORIGINS */
  origins: string[];
  createBucket: boolean;
  dryRun: boolean;
  /** days after which incomplete multipart uploads are aborted; 0 leaves the lifecycle alone */
  abortIncompleteDays: number;
}

export type Outcome = 'unchanged' | 'created' | 'updated' | 'would create' | 'would update' | 'skipped' | 'unsupported';

export interface S3SetupReport {
  bucket: { name: string; outcome: 'exists' | 'created' | 'would create' };
  cors: { outcome: Outcome; rules: CORSRule[] };
  lifecycle: { outcome: Outcome; rules: LifecycleRule[]; reason?: string };
  /** whether anything was (or, in a dry run, would be) written */
  changed: boolean;
}

/** APP_DOMAIN's origin first, then CORS_ALLOWED_ORIGINS, without repeats. */
export const s3SetupOrigins = (config: Pick<Config, 'appDomain' | 'corsAllowedOrigins'>): string[] => [
  ...new Set([new URL(config.appDomain).origin, ...config.corsAllowedOrigins]),
];

export const chuteCorsRule = (origins: string[]): CORSRule => ({
  ID: CORS_RULE_ID,
  AllowedOrigins: origins,
  AllowedMethods: ['POST', 'PUT', 'GET', 'HEAD'],
  AllowedHeaders: ['*'],
  ExposeHeaders: ['ETag', 'Location'],
  MaxAgeSeconds: 3000,
});

export const chuteLifecycleRule = (days: number): LifecycleRule => ({
  ID: LIFECYCLE_RULE_ID,
  Status: 'Enabled',
  // A Filter (here: every key) is required: RGW answers MalformedXML to a rule without one.
  Filter: { Prefix: '' },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
});

const sorted = (values: string[] | undefined) => [...(values ?? [])].sort();

/** Stores reorder methods and may echo fields differently: compare what matters. */
const sameCorsRule = (a: CORSRule, b: CORSRule): boolean =>
  JSON.stringify([
    a.ID,
    sorted(a.AllowedOrigins),
    sorted(a.AllowedMethods),
    sorted(a.AllowedHeaders),
    sorted(a.ExposeHeaders),
    a.MaxAgeSeconds ?? null,
  ]) ===
  JSON.stringify([
    b.ID,
    sorted(b.AllowedOrigins),
    sorted(b.AllowedMethods),
    sorted(b.AllowedHeaders),
    sorted(b.ExposeHeaders),
    b.MaxAgeSeconds ?? null,
  ]);

/** RGW answers a rule put with Filter.Prefix with the older top-level Prefix; both mean the same. */
const prefixOf = (rule: LifecycleRule): string | null =>
  rule.Filter && Object.keys(rule.Filter).some((key) => key !== 'Prefix')
    ? null
    : (rule.Filter?.Prefix ?? rule.Prefix ?? '');

const sameLifecycleRule = (a: LifecycleRule, b: LifecycleRule): boolean => {
  const shape = (rule: LifecycleRule) =>
    JSON.stringify([
      rule.ID,
      rule.Status,
      prefixOf(rule),
      rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? null,
      rule.Expiration ?? null,
      rule.Transitions?.length ? rule.Transitions : null,
      rule.NoncurrentVersionExpiration ?? null,
      rule.NoncurrentVersionTransitions?.length ? rule.NoncurrentVersionTransitions : null,
    ]);
  return shape(a) === shape(b);
};

/** Another party's rule, written back as read but in the Filter form (old and new forms may not mix). */
function asFilterRule(rule: LifecycleRule): LifecycleRule {
  if (rule.Filter) return rule;
  const { Prefix, ...rest } = rule;
  return { ...rest, Filter: { Prefix: Prefix ?? '' } };
}

const errorCode = (error: unknown): string =>
  (error as { Code?: string; name?: string })?.Code ?? (error as Error)?.name ?? 'Error';
const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

function storageError(action: string, bucket: string, error: unknown): S3SetupError {
  const code = errorCode(error);
  const status = statusOf(error);
  const hint =
    status === 403 || code === 'AccessDenied'
      ? ' (the credentials may not change this bucket)'
      : status === undefined
        ? ' (is the endpoint reachable?)'
        : '';
  return new S3SetupError(
    `${action} on bucket ${bucket} failed: ${code}${status ? ` (${status})` : ''}${hint}: ${(error as Error)?.message ?? error}`,
  );
}

async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw storageError('HeadBucket', bucket, error);
  }
}

/** The current rules; `missing` is the S3 error code meaning "none configured". */
async function currentRules<T>(
  read: () => Promise<T[] | undefined>,
  missing: string,
  action: string,
  bucket: string,
): Promise<T[]> {
  try {
    return (await read()) ?? [];
  } catch (error) {
    if (errorCode(error) === missing || statusOf(error) === 404) return [];
    throw storageError(action, bucket, error);
  }
}

/** Errors with which a store says it does not do lifecycle rules (or not this kind). */
const lifecycleUnsupported = (error: unknown): boolean =>
  statusOf(error) === 501 ||
  ['NotImplemented', 'MalformedXML', 'InvalidArgument', 'InvalidRequest'].includes(errorCode(error));

export async function s3Setup(options: S3SetupOptions): Promise<S3SetupReport> {
  const { client, bucket, dryRun } = options;
  if (options.origins.length === 0) throw new S3SetupError('no origins to allow: set APP_DOMAIN');
  if (!Number.isInteger(options.abortIncompleteDays) || options.abortIncompleteDays < 0) {
    throw new S3SetupError('--abort-incomplete-days must be a whole number of days (0 leaves the lifecycle alone)');
  }

  const report: S3SetupReport = {
    bucket: { name: bucket, outcome: 'exists' },
    cors: { outcome: 'unchanged', rules: [] },
    lifecycle: { outcome: 'skipped', rules: [] },
    changed: false,
  };

  const exists = await bucketExists(client, bucket);
  if (!exists) {
    if (!options.createBucket)
      throw new S3SetupError(`bucket ${bucket} does not exist; create it, or run again with --create-bucket`);
    report.bucket.outcome = dryRun ? 'would create' : 'created';
    if (!dryRun) {
      try {
        await client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            ...(options.region !== 'us-east-1' && {
              CreateBucketConfiguration: { LocationConstraint: options.region as BucketLocationConstraint },
            }),
          }),
        );
      } catch (error) {
        if (errorCode(error) !== 'BucketAlreadyOwnedByYou') throw storageError('CreateBucket', bucket, error);
        report.bucket.outcome = 'exists';
      }
    }
  }
  const readable = exists || !dryRun;

  // CORS: Chute's rule first (S3 applies the first rule that matches), others kept after it.
  const corsRule = chuteCorsRule(options.origins);
  const currentCors = readable
    ? await currentRules(
        async () => (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules,
        'NoSuchCORSConfiguration',
        'GetBucketCors',
        bucket,
      )
    : [];
  const ownCors = currentCors.find((rule) => rule.ID === CORS_RULE_ID);
  report.cors.rules = [corsRule, ...currentCors.filter((rule) => rule.ID !== CORS_RULE_ID)];
  if (!ownCors || !sameCorsRule(ownCors, corsRule)) {
    report.cors.outcome = dryRun ? (ownCors ? 'would update' : 'would create') : ownCors ? 'updated' : 'created';
    if (!dryRun) {
      try {
        await client.send(
          new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: report.cors.rules } }),
        );
      } catch (error) {
        throw storageError('PutBucketCors', bucket, error);
      }
    }
  } else {
    report.cors.rules = currentCors;
  }

  if (options.abortIncompleteDays > 0) {
    await setupLifecycle(options, report, readable);
  }
  report.changed =
    report.bucket.outcome !== 'exists' ||
    report.cors.outcome !== 'unchanged' ||
    ['created', 'updated', 'would create', 'would update'].includes(report.lifecycle.outcome);
  return report;
}

async function setupLifecycle(
  { client, bucket, dryRun, abortIncompleteDays }: S3SetupOptions,
  report: S3SetupReport,
  readable: boolean,
): Promise<void> {
  const rule = chuteLifecycleRule(abortIncompleteDays);
  let current: LifecycleRule[] = [];
  if (readable) {
    try {
      current = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
    } catch (error) {
      if (statusOf(error) === 501 || errorCode(error) === 'NotImplemented') {
        report.lifecycle = {
          outcome: 'unsupported',
          rules: [rule],
          reason: `the storage does not read lifecycle rules: ${errorCode(error)}`,
        };
        return;
      }
      if (errorCode(error) !== 'NoSuchLifecycleConfiguration' && statusOf(error) !== 404)
        throw storageError('GetBucketLifecycleConfiguration', bucket, error);
    }
  }
  const own = current.find((existing) => existing.ID === LIFECYCLE_RULE_ID);
  const rules = [...current.filter((existing) => existing.ID !== LIFECYCLE_RULE_ID).map(asFilterRule), rule];
  if (own && sameLifecycleRule(own, rule)) {
    report.lifecycle = { outcome: 'unchanged', rules: current };
    return;
  }
  report.lifecycle = { outcome: dryRun ? (own ? 'would update' : 'would create') : own ? 'updated' : 'created', rules };
  if (dryRun) return;
  try {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }),
    );
  } catch (error) {
    if (!lifecycleUnsupported(error)) throw storageError('PutBucketLifecycleConfiguration', bucket, error);
    report.lifecycle = {
      outcome: 'unsupported',
      rules,
      reason: `the storage refused the rule: ${errorCode(error)}${statusOf(error) ? ` (${statusOf(error)})` : ''}`,
    };
  }
}

const describeCors = (rule: CORSRule) => `${rule.AllowedMethods?.join(', ')} from ${rule.AllowedOrigins?.join(', ')}`;

/** The lines `chute s3:setup` prints. */
export function formatS3SetupReport(
  report: S3SetupReport,
  { abortIncompleteDays }: { abortIncompleteDays: number },
): string {
  const ownCors = report.cors.rules.find((rule) => rule.ID === CORS_RULE_ID);
  const lines = [
    `bucket ${report.bucket.name}: ${report.bucket.outcome}`,
    `cors: ${report.cors.outcome} (rule ${CORS_RULE_ID}: ${ownCors ? describeCors(ownCors) : '?'})`,
    report.lifecycle.outcome === 'skipped'
      ? 'lifecycle: skipped (--abort-incomplete-days 0)'
      : report.lifecycle.outcome === 'unsupported'
        ? `lifecycle: NOT APPLIED, ${report.lifecycle.reason}. This storage does not take a rule that aborts incomplete multipart ` +
          'uploads: abandoned parts are then removed only by `chute cleanup`. Run with --abort-incomplete-days 0 to skip this step.'
        : `lifecycle: ${report.lifecycle.outcome} (rule ${LIFECYCLE_RULE_ID}: abort incomplete multipart uploads after ${abortIncompleteDays} days)`,
  ];
  if (!report.changed) lines.push('nothing to change');
  return lines.join('\n');
}

/** What a dry run prints: the configurations that would be put, and whether each would change. */
export function s3SetupPlan(report: S3SetupReport): Record<string, unknown> {
  return {
    bucket: report.bucket,
    cors: { outcome: report.cors.outcome, CORSConfiguration: { CORSRules: report.cors.rules } },
    lifecycle:
      report.lifecycle.outcome === 'skipped'
        ? { outcome: 'skipped' }
        : { outcome: report.lifecycle.outcome, LifecycleConfiguration: { Rules: report.lifecycle.rules } },
    changed: report.changed,
  };
}

/** `chute s3:setup [--create-bucket] [--dry-run] [--abort-incomplete-days N]`; returns the exit code. */
export async function s3SetupCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'create-bucket': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'abort-incomplete-days': { type: 'string', default: String(DEFAULT_ABORT_INCOMPLETE_DAYS) },
    },
  });
  const s3 = s3SettingsFor(config, 's3:setup');
  const days = values['abort-incomplete-days'];
  if (!/^\d{1,4}$/.test(days))
    throw new S3SetupError(`--abort-incomplete-days must be a whole number of days, got "${days}"`);
  const client = createS3Client(s3);
  try {
    const report = await s3Setup({
      client,
      bucket: s3.bucket,
      region: s3.region,
      origins: s3SetupOrigins(config),
      createBucket: values['create-bucket'],
      dryRun: values['dry-run'],
      abortIncompleteDays: Number(days),
    });
    if (values['dry-run']) console.log(JSON.stringify(s3SetupPlan(report), null, 2));
    else console.log(formatS3SetupReport(report, { abortIncompleteDays: Number(days) }));
    if (report.lifecycle.outcome === 'unsupported') {
      if (values['dry-run']) console.error(`lifecycle: ${report.lifecycle.reason}`);
      return 1;
    }
    return 0;
  } finally {
    client.destroy();
  }
}
