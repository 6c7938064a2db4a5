import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `transactions.version` becomes a 64-bit integer: a transition's version is now at least the
 * gateway's clock in epoch milliseconds (src/transactions/transaction-states.ts, nextVersion), so
 * a status published after a database restore or an asynchronous failover is still higher than
 * every version published before it. PostgreSQL rewrites the table (an exclusive lock for the time
 * of the rewrite); SQLite integers are 64-bit already.
 */
export class OrderedVersions1765900000000 implements MigrationInterface {
  name = 'OrderedVersions1765900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query(`ALTER TABLE transactions ALTER COLUMN version TYPE bigint`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query(`ALTER TABLE transactions ALTER COLUMN version TYPE integer`);
  }
}
