import type { OperatorRole } from '../config/operators-file.js';

export type { OperatorRole };

/** How the operator of a request was recognised. */
export type OperatorVia = 'shared-key' | 'key' | 'proxy' | 'session';

export interface Operator {
  /** Shown in the audit log, the console and `verification.by` of an operator's event. */
  name: string;
  role: OperatorRole;
  via: OperatorVia;
}

/** Reading needs any role; every action (a POST) needs `operator`. */
export const mayAct = (operator: Operator): boolean => operator.role === 'operator';
