/** Who may use the admin API and the console, and what they may do. */
export type OperatorRole = 'viewer' | 'operator';

/** How the operator of a request was recognised. */
export type OperatorVia = 'shared-key' | 'key' | 'proxy' | 'session';

export interface Operator {
  /** Shown in the audit log, the console and `verification.by` of an operator's event. */
  name: string;
  role: OperatorRole;
  via: OperatorVia;
}

/** The name the shared ADMIN_API_KEY acts under (reserved in the operators file). */
export const SHARED_KEY_OPERATOR = 'admin';

/** Reading needs any role; every action (a POST) needs `operator`. */
export const mayAct = (operator: Operator): boolean => operator.role === 'operator';
