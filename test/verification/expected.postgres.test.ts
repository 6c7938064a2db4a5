import { expectedSuite } from './expected.suite.js';

expectedSuite('postgres');
