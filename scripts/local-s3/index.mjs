// Node wrapper around start.sh / stop.sh for test setup code. No dependencies.
//
//   const s3 = await startLocalS3();
//   new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
//                  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
//   await s3.stop();
//
// Every call gets its own free port and its own folder, so parallel test processes never clash.
// S3_CEPH_STORE / S3_START_TIMEOUT / S3_ACCESS_KEY / S3_SECRET_KEY in the environment pass through.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

function run(script, env, verbose) {
  return new Promise((resolve, reject) => {
    // stderr is kept (not inherited) unless verbose, so that a failure can be reported in full
    const child = spawn('bash', [join(here, script)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', verbose ? 'inherit' : 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${script} failed (${signal ?? `exit ${code}`})${err ? `:\n${err.trim()}` : ''}`));
    });
  });
}

/**
 * Start a throwaway Ceph RGW on a free 127.0.0.1 port (about 3 s; the first run on a machine
 * without Ceph also installs it with apt-get).
 * @param {{ verbose?: boolean }} [options] verbose: show start.sh progress on stderr
 * @returns {Promise<{ endpoint: string, accessKeyId: string, secretAccessKey: string,
 *   region: 'us-east-1', dataDir: string, stop: () => Promise<void> }>}
 */
export async function startLocalS3({ verbose } = {}) {
  const accessKeyId = process.env.S3_ACCESS_KEY || 'localtest';
  const secretAccessKey = process.env.S3_SECRET_KEY || 'localtest-secret';
  const dataDir = mkdtempSync(join(tmpdir(), 'chute-s3-'));
  const env = {
    S3_PORT: '0',
    S3_DATA_DIR: dataDir,
    S3_ACCESS_KEY: accessKeyId,
    S3_SECRET_KEY: secretAccessKey,
    S3_VERBOSE: verbose ? '1' : '',
  };
  const out = await run('start.sh', env, verbose).catch((e) => {
    try {
      rmdirSync(dataDir);
    } catch {} // only if empty: a failed start leaves its logs there
    throw e;
  });
  const endpoint = /^S3_ENDPOINT=(\S+)$/m.exec(out)?.[1];
  if (!endpoint) throw new Error(`start.sh printed no S3_ENDPOINT line: ${JSON.stringify(out)}`);

  let stopping;
  const stopEnv = { S3_DATA_DIR: dataDir };
  // safety net: a test run that exits without stop() must not leave three daemons behind
  const onExit = () =>
    stopping || spawnSync('bash', [join(here, 'stop.sh')], { env: { ...process.env, ...stopEnv }, stdio: 'ignore' });
  process.once('exit', onExit);
  const stop = () => (stopping ??= run('stop.sh', stopEnv, verbose).then(() => void process.off('exit', onExit)));
  // region must be us-east-1: with any other the AWS SDK sends a LocationConstraint RGW refuses
  return { endpoint, accessKeyId, secretAccessKey, region: 'us-east-1', dataDir, stop };
}
