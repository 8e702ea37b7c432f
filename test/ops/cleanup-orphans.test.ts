// What uploads killed mid-way leave on local disk: a partial temp file in MEDIA_ROOT/.tmp, a
// partial part in .multipart/<upload_id>/, a part folder no record knows. The cleanup removes them
// once no process has touched them for a while; a live upload's process keeps touching its temp
// file, so a silent but live upload keeps it. Real server processes, SIGKILL, the real CLI.
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  api,
  cliUser,
  openRequest,
  openUpload,
  runCli,
  serverEnv,
  spawnServer,
  waitFor,
} from '../reliability/process-harness.js';
import { FINISH, lifo, localUrl, START } from '../reliability/support.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
/** the non-empty files in a folder, as full paths */
const partials = async (dir: string) => {
  const found: string[] = [];
  for (const name of await readdir(dir).catch(() => []))
    if ((await stat(join(dir, name)).catch(() => null))?.size) found.push(join(dir, name));
  return found;
};
/** what time passing does to a file nobody touches */
const age = async (path: string, minutes: number) => {
  const then = new Date(Date.now() - minutes * 60_000);
  await utimes(path, then, then);
};

describe('cleanup of what killed uploads left on local disk', () => {
  test('after SIGKILL mid-upload and a restart, the cleanup removes the partial temp file, the partial part and a stray part folder; a live upload keeps its temp file and completes', async (t) => {
    const scope = lifo(t);
    // the live upload below is silent for a while on purpose: no idle timeout may cut it meanwhile
    const env = await serverEnv(scope, { FILE_MAX_SIZE: '64MiB', HTTP_IDLE_TIMEOUT: '10m' });
    const media = env.MEDIA_ROOT!;
    const tmp = join(media, '.tmp');
    let server = await spawnServer(scope, env);
    const auth = await cliUser(env, server.baseUrl);

    // a direct upload and a multipart part, each in the middle of its bytes
    const { json: direct } = await api(server, 'POST', START, auth, {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
    });
    const directUpload = openUpload(server, localUrl(direct.id as number), auth, 256 * KiB);
    const { json: created } = await api(server, 'POST', '/api/files/upload/multipart/', auth, {
      file_name: 'parts.bin',
      file_type: 'application/octet-stream',
      file_size: 6 * MiB,
    });
    const { json: signed } = await api(server, 'POST', `/api/files/upload/multipart/${created.id}/sign/`, auth, {
      parts: [{ part_number: 1 }],
    });
    const [part] = signed.parts as Array<{ url: string }>;
    // the one part of a 6 MiB file is the whole file: its URL is signed for exactly that length
    const partUpload = openRequest(part!.url, {
      method: 'PUT',
      headers: { 'content-length': String(6 * MiB) },
      first: Buffer.alloc(256 * KiB, 1),
    });
    const partDir = join(media, '.multipart', created.upload_id as string);
    const dead = await waitFor(
      'both uploads to reach their temp files',
      async () => {
        const found = [...(await partials(tmp)), ...(await partials(partDir))];
        return found.length === 2 ? found : null;
      },
      60_000,
    );
    server.child.kill('SIGKILL');
    await server.exited;
    assert.match(await directUpload.ended, /^error/);
    assert.match(await partUpload.ended, /^error/);
    // a part folder no record knows (its process died between creating it and recording it)
    const stray = join(media, '.multipart', 'f'.repeat(32));
    await mkdir(stray);
    await writeFile(join(stray, `00001.${'0'.repeat(32)}`), 'a part');

    server = await spawnServer(scope, env);
    const { json: live } = await api(server, 'POST', START, auth, {
      file_name: 'live.bin',
      file_type: 'application/octet-stream',
    });
    const liveUpload = openUpload(server, localUrl(live.id as number), auth, 128 * KiB);
    const [liveTemp] = await waitFor(
      'the live upload to reach its temp file',
      async () => {
        const found = (await partials(tmp)).filter((path) => !dead.includes(path));
        return found.length === 1 ? found : null;
      },
      60_000,
    );

    // ten minutes on, nothing has touched what the killed process left
    for (const path of [...dead, join(stray, `00001.${'0'.repeat(32)}`), stray]) await age(path, 10);
    await runCli(env, ['cleanup']);
    for (const path of dead) assert.equal(await exists(path), false, `${path} was removed`);
    assert.equal(await exists(stray), false, 'the part folder of no upload was removed');
    assert.equal(await exists(liveTemp!), true, 'the live upload kept its temp file');
    assert.equal(await exists(partDir), true, 'the open multipart upload kept its folder');

    // the live upload stays silent past the limit: its process touches the temp file meanwhile
    await age(liveTemp!, 10);
    await waitFor(
      "the live upload's process to touch its temp file",
      async () => ((await stat(liveTemp!)).mtimeMs > Date.now() - 5 * 60_000 ? true : null),
      60_000,
    );
    await runCli(env, ['cleanup']);
    assert.equal(await exists(liveTemp!), true, 'a silent live upload kept its temp file');

    liveUpload.complete(64 * KiB);
    assert.equal(await liveUpload.ended, 'answered 200');
    const finished = await api(server, 'POST', FINISH, auth, { file_id: live.id });
    assert.equal(finished.status, 200, finished.text);
    assert.equal(finished.json.file_size, 192 * KiB);
    // the multipart upload goes on: the killed part was never a part
    const listed = await api(server, 'GET', `/api/files/upload/multipart/${created.id}/parts/`, auth);
    assert.deepEqual(listed.json, { parts: [] });
  });
});
