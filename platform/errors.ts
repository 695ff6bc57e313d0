/** Raised by a browser platform module for a capability browsers do not have (e.g. a synchronous file read). */
export class PlatformError extends Error {
  override name = 'PlatformError';
}
