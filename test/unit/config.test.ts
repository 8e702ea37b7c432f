import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, parseDuration, parseSize } from '../../src/config.js';

const s3Env = {
  FILE_UPLOAD_STORAGE: 's3',
  AWS_S3_ACCESS_KEY_ID: 'key',
  AWS_S3_SECRET_ACCESS_KEY: 'secret',
  AWS_STORAGE_BUCKET_NAME: 'my-bucket',
};

const failsOn = (env: Record<string, string>, variable: string) =>
  assert.throws(
    () => loadConfig(env),
    (error: unknown) =>
      error instanceof ConfigError && error.variable === variable && error.message.startsWith(variable),
  );

describe('config', () => {
  test('no environment at all gives the development defaults', () => {
    const config = loadConfig({});
    assert.equal(config.storage, 'local');
    assert.equal(config.databaseUrl, 'sqlite:./data/chute.sqlite');
    assert.equal(config.mediaRoot, './data/media');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8000);
    assert.equal(config.appDomain, 'http://localhost:8000');
    assert.equal(config.fileMaxSize, 10 * 1024 * 1024);
    assert.equal(config.fileVerifyContent, true);
    assert.equal(config.s3, null);
    assert.deepEqual(config.httpTimeouts, { idleSeconds: 60, headersSeconds: 30 });
  });

  test('APP_DOMAIN left unset follows PORT, so local upload urls reach the server', () => {
    assert.equal(loadConfig({ PORT: '3000' }).appDomain, 'http://localhost:3000');
    assert.equal(
      loadConfig({ PORT: '3000', APP_DOMAIN: 'https://files.example.com' }).appDomain,
      'https://files.example.com',
    );
  });

  test('S3 settings are required only with FILE_UPLOAD_STORAGE=s3, and a missing one is named', () => {
    const config = loadConfig(s3Env);
    assert.equal(config.s3?.bucket, 'my-bucket');
    assert.equal(config.s3?.region, 'us-east-1');
    assert.equal(config.s3?.defaultAcl, 'private');
    for (const name of ['AWS_S3_ACCESS_KEY_ID', 'AWS_S3_SECRET_ACCESS_KEY', 'AWS_STORAGE_BUCKET_NAME']) {
      failsOn({ ...s3Env, [name]: '' }, name);
    }
  });

  test('bad values stop the start with a message naming the variable', () => {
    const cases: Array<[env: Record<string, string>, variable: string]> = [
      [{ FILE_UPLOAD_STORAGE: 'ftp' }, 'FILE_UPLOAD_STORAGE'],
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ FILE_MAX_SIZE: 'lots' }, 'FILE_MAX_SIZE'],
      [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
      [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
      [{ ...s3Env, AWS_DEFAULT_ACL: 'world' }, 'AWS_DEFAULT_ACL'],
      [{ FILE_MAX_SIZE: '6TiB' }, 'FILE_MAX_SIZE'],
      [{ FILE_VERIFY_CONTENT: 'maybe' }, 'FILE_VERIFY_CONTENT'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ APP_DOMAIN: 'localhost:8000' }, 'APP_DOMAIN'],
      [{ AWS_PRESIGNED_EXPIRY: '0' }, 'AWS_PRESIGNED_EXPIRY'],
      [{ CORS_ALLOWED_ORIGINS: 'https://ok.example.com,not an origin' }, 'CORS_ALLOWED_ORIGINS'],
      [{ ...s3Env, AWS_DEFAULT_ACL: 'everyone' }, 'AWS_DEFAULT_ACL'],
      [{ ...s3Env, AWS_S3_ENDPOINT_URL: 'ftp://x' }, 'AWS_S3_ENDPOINT_URL'],
      [{ ...s3Env, AWS_STORAGE_BUCKET_NAME: 'Bad_Bucket' }, 'AWS_STORAGE_BUCKET_NAME'],
      [{ HTTP_IDLE_TIMEOUT: '0' }, 'HTTP_IDLE_TIMEOUT'],
      [{ HTTP_HEADERS_TIMEOUT: 'soon' }, 'HTTP_HEADERS_TIMEOUT'],
    ];
    for (const [env, variable] of cases) failsOn(env, variable);
  });

  test('sizes and durations take units', () => {
    assert.equal(parseSize('10485760'), 10485760);
    assert.equal(parseSize('10MiB'), 10 * 2 ** 20);
    assert.equal(parseSize('1.5 GB'), 1.5e9);
    assert.equal(parseSize('10 parsecs'), null);
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('24h'), 86400);
    assert.equal(parseDuration('7d'), 604800);
    assert.equal(parseDuration('-1h'), null);
  });

  test('log level and format: validated choices, any case', () => {
    assert.deepEqual([loadConfig({}).logLevel, loadConfig({}).logFormat], ['info', 'auto']);
    const config = loadConfig({ LOG_LEVEL: 'WARN', LOG_FORMAT: 'Pretty' });
    assert.deepEqual([config.logLevel, config.logFormat], ['warn', 'pretty']);
  });
});
