import { Global, Module } from '@nestjs/common';
import { CallbackStore } from './callback-store.js';
import { TransactionStates } from './transaction-states.js';

/** Callbacks and the transaction states they move, stored with their outbox rows. */
@Global()
@Module({
  providers: [CallbackStore, TransactionStates],
  exports: [CallbackStore, TransactionStates],
})
export class TransactionsModule {}
