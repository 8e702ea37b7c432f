// The one place where driver differences are ironed out: PostgreSQL returns bigint and count()
// as strings and timestamps as Date; SQLite returns numbers, 0/1 booleans and ISO strings.

export const toNumber = (value: number | string | bigint): number => Number(value);

export const toNullableNumber = (value: number | string | bigint | null): number | null =>
  value === null ? null : Number(value);

export const toBoolean = (value: boolean | number): boolean => value === true || value === 1;

export const toDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

export const toNullableDate = (value: Date | string | null): Date | null => (value === null ? null : toDate(value));

export const nowIso = (now: Date = new Date()): string => now.toISOString();
