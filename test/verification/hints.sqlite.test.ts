import { hintSuite } from './hints.suite.js';

hintSuite('sqlite');
