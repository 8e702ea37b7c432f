// SQLite on two threads. better-sqlite3 runs each statement synchronously on the thread that calls
// it; on the event loop that was 55-60% of the server's time under the start benchmark, with the
// machine's other core nearly idle. Here the writes run on a worker thread with a connection of
// its own (the one writer), and the reads outside transactions on the event loop's connection (WAL
// lets a reader run beside the writer, and a reader sees every commit made before it starts).
//
// The worker commits in groups: the single-statement writes that queue up while it is busy run in
// one transaction, so they share its commit and the pages they both change (the last pages of a
// table and of its indexes on ids and times), and each caller is answered once its write is
// committed. A write that fails fails alone: the group is rolled back, its caller gets the error,
// and the others run again. A transaction runs on the worker, statement by statement as the caller
// sends them; what else comes in meanwhile waits for it to end, as it did for SQLite's one
// connection before.
import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  DeleteQueryNode,
  type Dialect,
  type DialectAdapter,
  type Driver,
  InsertQueryNode,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  UpdateQueryNode,
} from 'kysely';
import {
  type BackgroundCheckpoints,
  startBackgroundCheckpoints,
  WRITER_CHECKPOINT_PAGES,
} from './sqlite-checkpoints.js';

// CommonJS run with `eval`, so it needs no file of its own next to the compiled or the tsx-run code.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const { readSync, openSync, closeSync } = require('node:fs');
const { endianness } = require('node:os');
const { port, path, pragmas, cacheLimit, logMark } = workerData;
const db = new SQLite(path, { fileMustExist: true });
for (const pragma of pragmas) db.pragma(pragma);

// Past logMark frames the writer checkpoints with RESTART, so that its next commit starts the log
// over. SQLite takes the checkpoint lock without waiting, and the other thread's checkpoint rounds
// (long under fsync load) held it at nearly every commit: the log grew to 36-77 MB. So the writer
// asks again every millisecond, up to half a second, until that round is over. The frame count is
// the wal-index header's mxFrame (the -shm file, offset 16, native byte order:
// sqlite.org/walformat.html). A checkpoint that fails (a full disk: it grows the database file)
// ends nothing: the commits go on into the log, and the writer tries again a second later.
let shm = -1;
const header = Buffer.alloc(4);
const pause = new Int32Array(new SharedArrayBuffer(4));
let retryAt = 0;
function boundLog() {
  if (!logMark || Date.now() < retryAt) return;
  try {
    if (shm === -1) shm = openSync(path + '-shm', 'r');
    readSync(shm, header, 0, 4, 16);
    const frames = endianness() === 'LE' ? header.readUInt32LE(0) : header.readUInt32BE(0);
    if (frames < logMark) return;
    for (let tries = 0; tries < 500; tries++) {
      const [{ log }] = db.pragma('wal_checkpoint(RESTART)');
      if (log !== -1) return;
      Atomics.wait(pause, 0, 0, 1);
    }
  } catch {
    retryAt = Date.now() + 1000;
  }
}

const statements = new Map();
function prepare(sql) {
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    if (statements.size >= cacheLimit) statements.delete(statements.keys().next().value);
    statements.set(sql, statement);
  }
  return statement;
}
function execute({ sql, params }) {
  const statement = prepare(sql);
  if (statement.reader) return { rows: statement.all(params) };
  const { changes, lastInsertRowid } = statement.run(params);
  return { changes, lastInsertRowid };
}
const failure = (error) => ({ error: { message: String(error && error.message), code: error && error.code } });
function attempt(message) {
  try {
    return execute(message);
  } catch (error) {
    return failure(error);
  }
}
function rollback() {
  if (db.inTransaction) db.exec('rollback');
}

// Single statements outside any transaction, in one: [message, result] pairs
function commitGroup(group, answers) {
  if (group.length === 1) return void answers.push([group[0].id, attempt(group[0])]);
  const results = [];
  try {
    db.exec('begin');
  } catch (error) {
    for (const message of group) answers.push([message.id, failure(error)]);
    return;
  }
  for (const [index, message] of group.entries()) {
    try {
      results.push(execute(message));
    } catch (error) {
      // an error such as a full disk can end the transaction: never let the rest commit one by one
      rollback();
      answers.push([message.id, failure(error)]);
      const others = group.filter((_, other) => other !== index);
      if (others.length) commitGroup(others, answers);
      return;
    }
  }
  try {
    db.exec('commit');
  } catch (error) {
    rollback();
    for (const message of group) answers.push([message.id, failure(error)]);
    return;
  }
  for (const [index, message] of group.entries()) answers.push([message.id, results[index]]);
}

const queue = [];
let open = 0; // the transaction under way (its number), 0 when none
function pump() {
  for (let next; (next = receiveMessageOnPort(port)); ) queue.push(next.message);
  while (queue.length) {
    const answers = [];
    if (open) {
      const index = queue.findIndex((message) => message.tx === open);
      if (index === -1) return; // the rest waits for the transaction's next statement
      const [message] = queue.splice(index, 1);
      answers.push([message.id, attempt(message)]);
      if (!db.inTransaction) open = 0;
    } else if (queue[0].close) {
      db.close();
      if (shm !== -1) closeSync(shm);
      port.close();
      return;
    } else if (queue[0].tx) {
      const message = queue.shift();
      answers.push([message.id, attempt(message)]);
      if (db.inTransaction) open = message.tx;
    } else {
      // a PRAGMA, DDL or other raw statement runs on its own, as some cannot run in a transaction
      let end = 1;
      const joins = (message) => !message.tx && !message.close && !message.solo;
      if (!queue[0].solo) while (end < queue.length && joins(queue[end])) end++;
      commitGroup(queue.splice(0, end), answers);
    }
    port.postMessage(answers);
    if (!open) boundLog();
    for (let next; (next = receiveMessageOnPort(port)); ) queue.push(next.message);
  }
}
port.on('message', (message) => {
  queue.push(message);
  pump();
});
port.postMessage('ready');
`;

type Answer =
  | { rows: unknown[] }
  | { changes: number; lastInsertRowid: number | bigint }
  | { error: { message: string; code?: string } };
type Waiting = { resolve: (answer: Answer) => void; reject: (error: Error) => void };

type Reader = { prepare(sql: string): SQLite.Statement; close(): void };

export interface SqliteWriterOptions {
  /** the database file */
  path: string;
  /** opens the event loop's connection (reads outside transactions); it puts the file in WAL mode */
  reader: () => Reader;
  /** PRAGMA statements for the writer's connection (`busy_timeout = 5000`, ...) */
  pragmas: string[];
  /** compiled statements the writer keeps */
  cacheLimit: number;
  /** a third thread checkpoints the log (sqlite-checkpoints.ts) */
  backgroundCheckpoints: boolean;
}

/** The worker thread that owns the writing connection, and the calls waiting on it. */
class Writer {
  readonly #port: MessagePort;
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #lastId = 0;
  #lastTx = 0;
  #broken: Error | null = null;
  readonly ready: Promise<void>;

  constructor({
    path,
    pragmas,
    cacheLimit,
    logMark,
  }: Pick<SqliteWriterOptions, 'path' | 'pragmas' | 'cacheLimit'> & { logMark: number }) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        path,
        pragmas,
        cacheLimit,
        logMark,
        port: port2,
      },
      transferList: [port2],
    });
    this.#worker.unref();
    let ready: () => void;
    this.ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      this.#worker.once('error', reject);
    });
    this.ready.catch(() => {}); // init() reports it
    this.#port.on('message', (message: 'ready' | [number, Answer][]) => {
      if (message === 'ready') ready();
      else this.#answer(message);
      if (this.#waiting.size === 0) this.#port.unref();
    });
    const fail = (error: Error) => {
      this.#broken ??= Object.assign(new Error(`the SQLite writer thread stopped: ${error.message}`), {
        code: 'SQLITE_CANTOPEN',
      });
      for (const waiting of this.#waiting.values()) waiting.reject(this.#broken);
      this.#waiting.clear();
      this.#port.close();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    // the port is referenced (the process waits for it) while it waits for the thread or an answer
  }

  /** A new transaction's number: its statements carry it. */
  transaction(): number {
    return ++this.#lastTx;
  }

  /**
   * Runs `sql` on the writer: in transaction `tx`, or outside any (tx 0): in the next group, or
   * alone when `solo`.
   */
  async run(sql: string, params: readonly unknown[], tx: number, solo = true): Promise<Answer> {
    if (this.#broken) throw this.#broken;
    const id = ++this.#lastId;
    const answer = await new Promise<Answer>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#port.postMessage({ id, tx, sql, params, solo });
      this.#port.ref();
    });
    if ('error' in answer) throw new SQLite.SqliteError(answer.error.message, answer.error.code ?? 'SQLITE_ERROR');
    return answer;
  }

  #answer(answers: [number, Answer][]): void {
    for (const [id, answer] of answers) {
      this.#waiting.get(id)?.resolve(answer);
      this.#waiting.delete(id);
    }
  }

  /** Closes the writer's connection after what was sent before, and ends the thread. */
  async close(): Promise<void> {
    if (this.#broken) return;
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#broken = Object.assign(new Error('the database is closed'), { code: 'SQLITE_MISUSE' });
    this.#port.postMessage({ close: true });
    this.#worker.ref();
    await exited;
  }
}

/** The statements a group may hold: one INSERT, UPDATE or DELETE each. */
const GROUPED = [InsertQueryNode, UpdateQueryNode, DeleteQueryNode];

class WriterConnection implements DatabaseConnection {
  /** the transaction this connection is in, 0 when none */
  tx = 0;
  constructor(
    readonly writer: Writer,
    readonly reader: Reader,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.tx && SelectQueryNode.is(query.query)) {
      return { rows: this.reader.prepare(query.sql).all(query.parameters as unknown[]) as R[] };
    }
    const answer = await this.writer.run(
      query.sql,
      query.parameters,
      this.tx,
      !GROUPED.some((node) => node.is(query.query)),
    );
    if ('rows' in answer) return { rows: answer.rows as R[] };
    const { changes, lastInsertRowid } = answer as { changes: number; lastInsertRowid: number | bigint };
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    const rows = this.tx
      ? (await this.executeQuery<R>(query)).rows
      : (this.reader.prepare(query.sql).iterate(query.parameters as unknown[]) as Iterable<R>);
    for (const row of rows) yield { rows: [row] };
  }
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

class WriterDriver implements Driver {
  #writer: Writer | null = null;
  #reader: Reader | null = null;
  #checkpoints: BackgroundCheckpoints | null = null;
  constructor(readonly options: SqliteWriterOptions) {}

  async init(): Promise<void> {
    const { path, pragmas, cacheLimit, backgroundCheckpoints } = this.options;
    this.#reader = this.options.reader();
    // with checkpoints on a thread of their own the writer's mark is higher (sqlite-checkpoints.ts)
    const mark = backgroundCheckpoints ? [`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`] : [];
    const logMark = backgroundCheckpoints ? WRITER_CHECKPOINT_PAGES : 0;
    const writer = new Writer({ path, pragmas: [...pragmas, ...mark], cacheLimit, logMark });
    this.#writer = writer;
    await writer.ready;
    if (backgroundCheckpoints) {
      this.#checkpoints = startBackgroundCheckpoints(path, () => {
        writer.run('pragma wal_autocheckpoint = 1000', [], 0).catch(() => {});
      });
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new WriterConnection(this.#writer!, this.#reader!);
  }

  async beginTransaction(connection: WriterConnection): Promise<void> {
    const tx = this.#writer!.transaction();
    await this.#writer!.run('begin', [], tx);
    connection.tx = tx;
  }

  async commitTransaction(connection: WriterConnection): Promise<void> {
    await this.#end(connection, 'commit');
  }

  async rollbackTransaction(connection: WriterConnection): Promise<void> {
    await this.#end(connection, 'rollback');
  }

  async #end(connection: WriterConnection, sql: 'commit' | 'rollback'): Promise<void> {
    try {
      await this.#writer!.run(sql, [], connection.tx);
    } finally {
      connection.tx = 0;
    }
  }

  async savepoint(connection: WriterConnection, name: string): Promise<void> {
    await this.#writer!.run(`savepoint ${quoted(name)}`, [], connection.tx);
  }

  async rollbackToSavepoint(connection: WriterConnection, name: string): Promise<void> {
    await this.#writer!.run(`rollback to ${quoted(name)}`, [], connection.tx);
  }

  async releaseSavepoint(connection: WriterConnection, name: string): Promise<void> {
    await this.#writer!.run(`release ${quoted(name)}`, [], connection.tx);
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    this.#checkpoints?.stop();
    await this.#writer?.close();
    this.#reader?.close();
  }
}

/** Kysely's SQLite dialect (its compiler, adapter, introspector) over a reader and a writer thread. */
export class SqliteWriterDialect implements Dialect {
  constructor(readonly options: SqliteWriterOptions) {}
  createDriver(): Driver {
    return new WriterDriver(this.options);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own dialects take any schema here
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
