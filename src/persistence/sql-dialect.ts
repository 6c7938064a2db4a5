import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** The part of pg's Pool used here (TypeORM's PostgreSQL driver keeps one as `master`). */
interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** What a better-sqlite3 statement offers; typed here to keep the driver an implementation detail. */
interface SqliteStatement {
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): () => T;
}

/** One statement of a transaction plan (`?` placeholders). */
export interface SqlStep {
  sql: string;
  params: unknown[];
}

export type SqlRows = Record<string, unknown>[];

/**
 * A database transaction written once for both databases: a generator that yields each statement
 * and receives its rows. `SqlDialect.transact` runs it synchronously on SQLite (nothing can
 * interleave) and statement by statement on one pooled PostgreSQL connection. Plans compose with
 * `yield*`, so several writes (e.g. a stored record and a state transition) share one transaction.
 */
export type SqlPlan<T> = Generator<SqlStep, T, SqlRows>;

export interface SqlPlanContext {
  /** True on PostgreSQL: plans add `FOR UPDATE` to the reads they must lock. */
  postgres: boolean;
}

export function step(sql: string, params: unknown[] = []): SqlStep {
  return { sql, params };
}

/**
 * The rows of a batched write as one `jsonb` parameter: a JSON array of rows, each an array of
 * texts (or null), read in SQL with `jsonbRowColumns`. One parameter and one statement text for
 * any number of rows (planned once per pooled connection), and one native JSON.stringify on this
 * side — pg's conversion of `text[]` parameters ran two regular-expression replaces over every
 * value, a fifth of the gateway's allocation per callback (issue 28). A string that is not well
 * formed (a lone surrogate, which a JSON body's `\\ud800` escape can produce) is stored with
 * U+FFFD in its place, as pg's UTF-8 encoding of a text parameter would, where jsonb would refuse
 * the escape JSON.stringify writes for it.
 */
export function jsonbRows(rows: readonly (readonly unknown[])[]): string {
  for (const row of rows) {
    for (const value of row) {
      if (typeof value === 'string' && !value.isWellFormed())
        return JSON.stringify(rows, wellFormed);
    }
  }
  return JSON.stringify(rows);
}

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.toWellFormed() : value;
}

/**
 * The select list reading a jsonbRows row `row` (a `jsonb` array) as text columns named `names`,
 * in order: `row->>0 AS first, row->>1 AS second, …` (JSON null → SQL NULL).
 */
export function jsonbRowColumns(row: string, names: readonly string[]): string {
  return names.map((name, i) => `${row}->>${i} AS ${name}`).join(', ');
}

const MAX_CACHED_TEXTS = 1000;

/**
 * The little SQL the hot path needs, written once with `?` placeholders, run on PostgreSQL (as
 * $1, $2, …) through the pool, or on SQLite synchronously through the better-sqlite3 handle —
 * a synchronous transaction cannot interleave with another one on SQLite's single connection.
 */
export class SqlDialect {
  readonly isPostgres: boolean;
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly numberedText = new Map<string, string>();
  private readonly statementNames = new Map<string, string>();

  /** preparedStatements: false sends every statement unnamed (e.g. behind a pooler without them). */
  constructor(
    private readonly dataSource: DataSource,
    private readonly preparedStatements = true,
  ) {
    this.isPostgres = dataSource.options.type === 'postgres';
  }

  private get sqlite(): SqliteDatabase {
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteDatabase })
      .databaseConnection;
  }

  private prepared(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** `?` → `$1, $2, …`, rewritten once per statement text (a batch shape repeats thousands of times). */
  private numbered(sql: string): string {
    let text = this.numberedText.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      // Statement texts are few (one per batch size and query); the bound only guards mistakes.
      if (this.numberedText.size >= MAX_CACHED_TEXTS) this.numberedText.clear();
      this.numberedText.set(sql, text);
    }
    return text;
  }

  /** Runs a statement and returns its rows (RETURNING or SELECT); `[]` for none. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.isPostgres) {
      const result: unknown = await this.dataSource.query(this.numbered(sql), params);
      return rowsOf(result) as T[];
    }
    const statement = this.prepared(sql);
    return (
      statementReturnsRows(sql) ? statement.all(...params) : (statement.run(...params), [])
    ) as T[];
  }

  /**
   * `query` for the hot path's few statement shapes: on PostgreSQL a named prepared statement, so
   * each pooled connection parses (and, after five runs, plans) the text once instead of on every
   * batch, and the text is not sent again. The name is derived from the text, so the same text
   * always has the same name on every connection. On SQLite every statement is prepared anyway.
   */
  async queryPrepared<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]> {
    if (!this.isPostgres || !this.preparedStatements) return this.query<T>(sql, params);
    const text = this.numbered(sql);
    let name = this.statementNames.get(text);
    if (name === undefined) {
      name = `gw_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      if (this.statementNames.size >= MAX_CACHED_TEXTS) this.statementNames.clear();
      this.statementNames.set(text, name);
    }
    const pool = (this.dataSource.driver as unknown as { master: PgPool }).master;
    const result = await pool.query({ name, text, values: params });
    return result.rows as T[];
  }

  /** Runs a plan (see SqlPlan) as one transaction: all its statements commit, or none does. */
  async transact<T>(plan: (context: SqlPlanContext) => SqlPlan<T>): Promise<T> {
    if (!this.isPostgres) {
      return this.sqliteTransaction((run) => runSqlitePlan(run, plan));
    }
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      try {
        const steps = plan({ postgres: true });
        let next = steps.next();
        while (!next.done) {
          const result: unknown = await runner.query(
            this.numbered(next.value.sql),
            next.value.params,
          );
          next = steps.next(rowsOf(result) as SqlRows);
        }
        await runner.commitTransaction();
        return next.value;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * SQLite only: group commit. Runs every plan in one transaction, each inside its own savepoint
   * (better-sqlite3 nests transactions as savepoints): a plan that throws rolls back only its own
   * statements and gets its error, the others commit together — one commit, so one fsync, for
   * the group. If the commit itself fails, every plan gets that error (nothing was stored).
   */
  sqliteGroup<T>(
    plans: Array<(context: SqlPlanContext) => SqlPlan<T>>,
  ): Array<{ ok: true; value: T } | { ok: false; error: unknown }> {
    try {
      return this.sqliteTransaction(() =>
        plans.map((plan) => {
          try {
            return {
              ok: true as const,
              value: this.sqliteTransaction((run) => runSqlitePlan(run, plan)),
            };
          } catch (error) {
            return { ok: false as const, error };
          }
        }),
      );
    } catch (error) {
      return plans.map(() => ({ ok: false as const, error }));
    }
  }

  /** SQLite only: runs `fn` as one synchronous transaction with prepared statements. */
  sqliteTransaction<T>(
    fn: (run: (sql: string, params: unknown[]) => Record<string, unknown>[]) => T,
  ): T {
    const run = (sql: string, params: unknown[]) => {
      const statement = this.prepared(sql);
      return statementReturnsRows(sql) ? statement.all(...params) : (statement.run(...params), []);
    };
    return this.sqlite.transaction(() => fn(run))();
  }
}

/** Runs a plan's statements one after the other through `run` (synchronous: SQLite). */
function runSqlitePlan<T>(
  run: (sql: string, params: unknown[]) => SqlRows,
  plan: (context: SqlPlanContext) => SqlPlan<T>,
): T {
  const steps = plan({ postgres: false });
  let next = steps.next();
  while (!next.done) next = steps.next(run(next.value.sql, next.value.params));
  return next.value;
}

/** TypeORM answers UPDATE … RETURNING on PostgreSQL as [rows, count]; everything else as rows. */
function rowsOf(result: unknown): unknown[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as unknown[];
  }
  return Array.isArray(result) ? result : [];
}

function statementReturnsRows(sql: string): boolean {
  return /^\s*(select|with)\b/i.test(sql) || /\breturning\b/i.test(sql);
}
