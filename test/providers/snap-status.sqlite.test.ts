import { snapStatusSuite } from './snap-status.suite.js';

snapStatusSuite('sqlite');
