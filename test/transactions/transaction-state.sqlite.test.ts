import { transactionStateSuite } from './transaction-state.suite.js';

transactionStateSuite('sqlite');
