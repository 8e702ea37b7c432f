import { execFileSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { loadConfig } from './src/config.js';
import { buildApp } from './src/http/app.js';
import { userCreate } from './src/users/services.js';
const dir = mkdtempSync('/tmp/wth/db-');
const app = await buildApp({ config: loadConfig({ DATABASE_URL: `sqlite:${dir}/x.sqlite`, MEDIA_ROOT: dir, LOG_LEVEL: 'silent', APP_DOMAIN: 'http://chute.test', FILE_MAX_SIZE_STANDARD: '100KiB' }) });
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
await userCreate(app.chute.db, { email: 'a@example.com', password: 'pw-12345678', isStaff: false });
const token = (await app.inject({ method: 'POST', url: '/api/auth/login/', payload: { email: 'a@example.com', password: 'pw-12345678' } })).json().session;
writeFileSync(`${dir}/big.bin`, randomBytes(3 * 1024 * 1024));
writeFileSync(`${dir}/big.json`, JSON.stringify({ file_name: 'a', file_type: 'text/plain', p: 'x'.repeat(3 * 1024 * 1024) }));
const mode = process.argv[2];
for (let i = 0; i < 3; i++) {
  const t0 = Date.now();
  const args = mode === 'json'
    ? ['-sS', '-v', '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json', '--data-binary', `@${dir}/big.json`, `http://127.0.0.1:${port}/api/files/upload/direct/start/`]
    : ['-sS', '-v', '-H', `Authorization: Bearer ${token}`, '-F', `file=@${dir}/big.bin`, `http://127.0.0.1:${port}/api/files/upload/standard/`];
  const out = await new Promise<string>((res) => execFile('/usr/bin/curl', args, (e, so, se) => res(so + '\n' + se.split('\n').filter(l => /^[<>*]/.test(l) && !/^\* +(Trying|Connected)/.test(l)).join('\n'))));
  console.log('---', Date.now() - t0, 'ms\n', out.slice(0, 1500));
}
await app.close();
