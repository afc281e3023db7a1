// The wire format shared by server and client: error bodies, and the API version prefix.
import { ErrorCodes, type ErrorCode, type ErrorDomain, VirError, httpStatusOf } from '../util/errors.js';

export const API_PREFIX = '/v1';

/** Default limit of a request body (domain XML included). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ErrorBody {
  error: { code: ErrorCode; number: number; domain: ErrorDomain; message: string };
}

/** The one error -> HTTP mapping: status and JSON body for any thrown value. */
export function errorResponse(e: unknown, statusOverride?: number): { status: number; body: ErrorBody } {
  const err =
    e instanceof VirError
      ? e
      : new VirError('INTERNAL_ERROR', `internal error: ${e instanceof Error ? e.message : String(e)}`, {
          domain: 'API',
        });
  return { status: statusOverride ?? httpStatusOf[err.code] ?? 500, body: { error: err.toJSON() } };
}

/** Turns an error response back into the VirError the server threw. */
export function errorFromResponse(status: number, text: string): VirError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    const e = body.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      const code = (e.code in ErrorCodes ? e.code : 'INTERNAL_ERROR') as ErrorCode;
      return new VirError(code, e.message, { domain: e.domain ?? 'RPC' });
    }
  } catch {
    // not JSON: fall through
  }
  return new VirError('RPC', `unexpected HTTP ${status} from tvirtd: ${text.slice(0, 200)}`, {
    domain: 'RPC',
  });
}

/** Message envelope on the events WebSocket. */
export type EventsMessage =
  | { type: 'ready' }
  | { type: 'event'; event: import('../drivers/connection.js').TvirtEvent };
