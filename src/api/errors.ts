/**
 * Errors the API answers with. Every error body is `{ "error": "<message>" }`; a bad
 * parameter's message starts with the parameter's name so a client can tell which one.
 */
export class ApiError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

/** 400 naming the parameter: `badParam('limit', 'must be an integer in 1..1000')`. */
export function badParam(param: string, problem: string): ApiError {
  return new ApiError(400, `${param}: ${problem}`);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, message);
}
