/** A refusal of `chute s3:setup` worth one line to the operator (the CLI prints it, exit 1). */
export class S3SetupError extends Error {
  override name = 'S3SetupError';
}
