// `npx chute --help` as a user types it: every command on a line of its own, exit 0; a wrong command
// says so with the same list and exits 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';

const run = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['bin/chute.js', ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );

const COMMANDS = ['migrate', 'users:create', 's3:setup', 'cleanup', 'help'];

describe('chute CLI', () => {
  test('--help and -h list each command on one line and exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const { code, stdout } = await run(flag);
      assert.equal(code, 0, flag);
      for (const command of COMMANDS) {
        const lines = stdout.split('\n').filter((line) => line.startsWith(`  ${command} `));
        assert.equal(lines.length, 1, `${flag}: one line for ${command}:\n${stdout}`);
        assert.ok(lines[0]!.slice(command.length + 2).trim().length > 10, `${command} has a description`);
      }
    }
  });

  test('an unknown command is named, the list follows, exit 2', async () => {
    const { code, stderr } = await run('frobnicate');
    assert.equal(code, 2);
    assert.match(stderr, /unknown command "frobnicate"/);
    assert.match(stderr, /^ {2}cleanup /m);
  });
});
