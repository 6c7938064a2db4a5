import { snapSuite } from './snap.suite.js';

snapSuite('postgres');
