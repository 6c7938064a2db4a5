import { verificationSuite } from './verification.suite.js';

verificationSuite('sqlite');
