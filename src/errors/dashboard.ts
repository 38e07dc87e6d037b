/**
 * Catalogue section: answers of the operations dashboard (`src/dashboard/`, on the ops listener at
 * `/dashboard`). API bodies are `{ "error": message, "code": code }` with `httpStatus`; a failed
 * login answers the login page again with the message.
 */
import { defineError } from './catalogue.js';

/** Dashboard errors. */
export const DashboardErrors = {
  LoginRequired: defineError({
    code: 'ANDON_DASHBOARD_LOGIN_REQUIRED',
    message: 'log in at /dashboard first: this needs a dashboard session',
    retryable: false,
    httpStatus: 401,
    when: 'a dashboard API or event-stream request without a valid, unexpired session cookie (the page itself answers the login form)',
  }),
  BadToken: defineError({
    code: 'ANDON_DASHBOARD_BAD_TOKEN',
    message: 'wrong admin token (ANDON_ADMIN_TOKEN or <state dir>/admin-token)',
    retryable: false,
    httpStatus: 401,
    when: 'a dashboard login with a missing or wrong admin token',
  }),
  CsrfRejected: defineError({
    code: 'ANDON_DASHBOARD_CSRF',
    message: 'missing or wrong CSRF token: reload the dashboard and try again',
    retryable: false,
    httpStatus: 403,
    when: 'a state-changing dashboard request (halt, resume, drain, logout) without the session\'s `X-CSRF-Token`',
  }),
} as const;
