import { EdgelogError } from '../core/errors.ts';

/** A secret could not be read or written; `retriable` when waiting may fix it (no value yet, IAM propagating, network). */
export class SecretFetchError extends EdgelogError {
  constructor(message: string, retriable: boolean) {
    super('EDGELOG_SECRET_FETCH', message, { retriable });
  }
}
