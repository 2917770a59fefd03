/**
 * Stable error codes. Recognise errors by `code` (survives bundling and realm
 * boundaries), not only by `instanceof`.
 */
export const KEYPOINTS_ERROR_CODES = [
  'DATA_FORMAT',
  'DATA_NOT_FOUND',
  'CONFIG_INVALID',
  'BACKEND_INIT',
  'MODEL_IO',
  'TRAINING_DIVERGED',
  'TRAINING_BUSY',
] as const;

/** One of {@link KEYPOINTS_ERROR_CODES}. */
export type KeypointsErrorCode = (typeof KEYPOINTS_ERROR_CODES)[number];

/** Base class of every error this project throws on purpose. */
export class KeypointsError extends Error {
  /** Stable, machine-readable code. */
  readonly code: KeypointsErrorCode;

  constructor(code: KeypointsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Where in a file bad input was found. Lines and columns are 1-based, as editors show them. */
export interface DataLocation {
  /** Path of the file (or archive entry, `archive.zip:training.csv`). */
  readonly file: string;
  /** 1-based physical line of the file (the header is line 1). */
  readonly line?: number;
  /** Column name (e.g. `Image`, `left_eye_center_x`). */
  readonly column?: string;
}

/**
 * Malformed input data. The message always names the file, and where known the
 * line and the column, and says what was expected.
 */
export class DataFormatError extends KeypointsError {
  readonly location: DataLocation;

  constructor(location: DataLocation, problem: string, options?: { cause?: unknown }) {
    const where = [
      location.file,
      location.line !== undefined ? `line ${location.line}` : undefined,
      location.column !== undefined ? `column '${location.column}'` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super('DATA_FORMAT', `${where}: ${problem}`, options);
    this.location = location;
  }
}

/** A data file or folder does not exist or cannot be read. */
export class DataNotFoundError extends KeypointsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATA_NOT_FOUND', message, options);
  }
}

/** An option or configuration value is invalid (thrown by constructors and builders). */
export class ConfigError extends KeypointsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

/**
 * A backend plugin could not initialise. The message names the backend and says how to fix it
 * (e.g. which package to install).
 */
export class BackendInitError extends KeypointsError {
  /** The plugin's name (tfjs-node's is tfjs's `tensorflow`; its message says `node`, the `--backend` name). */
  readonly backend: string;
  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super('BACKEND_INIT', `backend '${backendAlias(backend)}': ${message}`, options);
    this.backend = backend;
  }
}

/**
 * The name a user selects a backend plugin by (`--backend`): tfjs-node's plugin carries tfjs's
 * backend name `tensorflow` and is selected as `node`; every other name is its own.
 */
export function backendAlias(name: string): string {
  return name === 'tensorflow' ? 'node' : name;
}

/** Saving or loading a model failed. */
export class ModelIOError extends KeypointsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_IO', message, options);
  }
}

/** True when `err` is a {@link KeypointsError} with the given code (works across copies of this package). */
export function isKeypointsError(err: unknown, code?: KeypointsErrorCode): err is KeypointsError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (!(err instanceof Error) || typeof c !== 'string') return false;
  // Node's own errors also carry string codes (ENOENT, …): accept only ours.
  return code === undefined ? (KEYPOINTS_ERROR_CODES as readonly string[]).includes(c) : c === code;
}
