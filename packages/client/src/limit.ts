/** Runs a task when a slot is free; resolves/rejects with the task's own result. */
export type Limiter = <T>(task: () => T | PromiseLike<T>) => Promise<T>;

/** At most `concurrency` tasks run at once; the others wait in order. */
export function createLimiter(concurrency: number): Limiter {
  if (!(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  }
  let active = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    if (active < concurrency && waiting.length) {
      active++;
      waiting.shift()!();
    }
  };
  return <T>(task: () => T | PromiseLike<T>) =>
    new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        // a task that throws synchronously rejects like one that returns a rejected promise
        new Promise<T>((run) => run(task())).then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
}
