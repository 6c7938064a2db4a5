import type { DataSource } from 'typeorm';

/** What a better-sqlite3 statement offers; typed here to keep the driver an implementation detail. */
interface SqliteStatement {
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction<T>(fn: () => T): () => T;
}

/**
 * The little SQL the hot path needs, written once with `?` placeholders, run on PostgreSQL (as
 * $1, $2, …) through the pool, or on SQLite synchronously through the better-sqlite3 handle —
 * a synchronous transaction cannot interleave with another one on SQLite's single connection.
 */
export class SqlDialect {
  readonly isPostgres: boolean;
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(private readonly dataSource: DataSource) {
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

  private numbered(sql: string): string {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  /** Runs a statement and returns its rows (RETURNING or SELECT); `[]` for none. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.isPostgres) {
      const result: unknown = await this.dataSource.query(this.numbered(sql), params);
      // TypeORM answers UPDATE … RETURNING on PostgreSQL as [rows, count].
      if (
        Array.isArray(result) &&
        result.length === 2 &&
        Array.isArray(result[0]) &&
        typeof result[1] === 'number'
      ) {
        return result[0] as T[];
      }
      return result as T[];
    }
    const statement = this.prepared(sql);
    return (
      statementReturnsRows(sql) ? statement.all(...params) : (statement.run(...params), [])
    ) as T[];
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

function statementReturnsRows(sql: string): boolean {
  return /^\s*(select|with)\b/i.test(sql) || /\breturning\b/i.test(sql);
}
