import { quarantineSuite } from './quarantine.suite.js';

quarantineSuite('postgres');
