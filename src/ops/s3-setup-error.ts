import type { Config, S3Config } from '../config.js';

/** A refusal of an S3 command (`chute s3:setup`, `static:publish`) worth one line to the operator (the CLI prints it, exit 1). */
export class S3SetupError extends Error {
  override name = 'S3SetupError';
}

/** The bucket's settings an S3 command works with, or its one-line refusal when there are none. */
export function s3SettingsFor(config: Config, command: string): S3Config {
  if (!config.s3)
    throw new S3SetupError(`${command} needs FILE_UPLOAD_STORAGE=s3 and the AWS_* settings of the bucket`);
  return config.s3;
}
