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
    assert.equal(config.sqliteSynchronous, 'normal');
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
      [{ STATIC_URL: 'cdn.example.com/static/' }, 'STATIC_URL'],
      [{ STATIC_URL: 'https://cdn.example.com/static' }, 'STATIC_URL'],
      [{ STATIC_URL: 'https://cdn.example.com/static/?v=1' }, 'STATIC_URL'],
      [{ STATIC_PREFIX: '/static/' }, 'STATIC_PREFIX'],
      [{ STATIC_PREFIX: 'static' }, 'STATIC_PREFIX'],
      [{ STATIC_PREFIX: '../up/' }, 'STATIC_PREFIX'],
      [{ SQLITE_SYNCHRONOUS: 'off' }, 'SQLITE_SYNCHRONOUS'],
    ];
    for (const [env, variable] of cases) failsOn(env, variable);
  });

  test("a download URL's life (AWS_QUERYSTRING_EXPIRE) stops at 7d with S3, which refuses presigned URLs valid longer; a local signed link may live longer", () => {
    assert.equal(loadConfig({ ...s3Env, AWS_QUERYSTRING_EXPIRE: '7d' }).urlExpiry, 7 * 86400);
    failsOn({ ...s3Env, AWS_QUERYSTRING_EXPIRE: '8d' }, 'AWS_QUERYSTRING_EXPIRE');
    assert.equal(loadConfig({ AWS_QUERYSTRING_EXPIRE: '30d' }).urlExpiry, 30 * 86400);
  });

  test('JWT auth: off by default; a secret and/or a JWKS URL turn it on, with the optional checks', () => {
    assert.equal(loadConfig({}).jwt, null);
    const secret = 'x'.repeat(32);
    assert.deepEqual(loadConfig({ AUTH_JWT_SECRET: secret }).jwt, {
      secret,
      jwksUrl: null,
      issuer: null,
      audience: null,
      staffClaim: null,
    });
    const both = loadConfig({
      AUTH_JWT_SECRET: secret,
      AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://id.example.com/',
      AUTH_JWT_AUDIENCE: 'chute',
      AUTH_JWT_STAFF_CLAIM: 'https://example.com/roles=Site Admin',
    }).jwt;
    assert.equal(both?.jwksUrl, 'https://id.example.com/.well-known/jwks.json');
    assert.equal(both?.issuer, 'https://id.example.com/');
    assert.equal(both?.audience, 'chute');
    assert.deepEqual(both?.staffClaim, { claim: 'https://example.com/roles', value: 'Site Admin' });
    assert.equal(
      loadConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:9000/jwks' }).jwt?.jwksUrl,
      'http://127.0.0.1:9000/jwks',
    );
  });

  test('bad JWT settings stop the start, naming the variable', () => {
    const secret = { AUTH_JWT_SECRET: 'x'.repeat(32) };
    const cases: Array<[env: Record<string, string>, variable: string]> = [
      [{ AUTH_JWT_SECRET: 'x'.repeat(31) }, 'AUTH_JWT_SECRET'],
      [{ AUTH_JWKS_URL: 'not a url' }, 'AUTH_JWKS_URL'],
      [{ AUTH_JWKS_URL: 'ftp://id.example.com/jwks' }, 'AUTH_JWKS_URL'],
      // keys fetched over plain http could be swapped on the way: https, or http on loopback only
      [{ AUTH_JWKS_URL: 'http://id.example.com/jwks' }, 'AUTH_JWKS_URL'],
      [{ ...secret, AUTH_JWT_STAFF_CLAIM: 'admin' }, 'AUTH_JWT_STAFF_CLAIM'],
      [{ ...secret, AUTH_JWT_STAFF_CLAIM: 'role=' }, 'AUTH_JWT_STAFF_CLAIM'],
      [{ ...secret, AUTH_JWT_STAFF_CLAIM: '=admin' }, 'AUTH_JWT_STAFF_CLAIM'],
      // a check with no key to verify tokens by is a forgotten variable
      [{ AUTH_JWT_ISSUER: 'https://id.example.com/' }, 'AUTH_JWT_ISSUER'],
      [{ AUTH_JWT_AUDIENCE: 'chute' }, 'AUTH_JWT_AUDIENCE'],
      [{ AUTH_JWT_STAFF_CLAIM: 'role=admin' }, 'AUTH_JWT_STAFF_CLAIM'],
    ];
    for (const [env, variable] of cases) failsOn(env, variable);
    // the secret is never echoed into the message
    assert.throws(
      () => loadConfig({ AUTH_JWT_SECRET: 'short-but-secret' }),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('short-but-secret'),
    );
  });

  test('static files: from Chute by default; STATIC_URL and STATIC_PREFIX as given', () => {
    assert.deepEqual(loadConfig({}).staticFiles, { url: null, prefix: 'static/' });
    assert.deepEqual(
      loadConfig({ STATIC_URL: 'https://d111.cloudfront.net/app/', STATIC_PREFIX: 'web/v1/' }).staticFiles,
      { url: 'https://d111.cloudfront.net/app/', prefix: 'web/v1/' },
    );
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
