// Wire types of the FactoryOps HTTP API, as the server sends them (snake_case kept on purpose
// so a field can be searched for in the OpenAPI document and the server code alike).

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
export type DependencyState = 'ok' | 'down';

/** Body of `GET /health`; the server answers 200 when healthy and 503 otherwise. */
export interface HealthReport {
  status: HealthStatus;
  service: string;
  dependencies: Record<string, DependencyState>;
}

/** Body of `GET /api/v1/system/info`. */
export interface SystemInfo {
  name: string;
  version: string;
  roles: string[];
  metadata_backend: 'sqlite' | 'mysql';
  started_at: string;
  uptime_seconds: number;
}

export interface LoginRequest {
  factory_id: string;
  email: string;
  password: string;
}

export interface SessionUser {
  /** Numeric or UUID depending on the metadata backend; treat it as opaque. */
  id: string | number;
  email: string;
  name: string;
  role: string;
  factory_id: string;
}

/** Body of a successful `POST /api/v1/auth/login`. */
export interface LoginResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  user: SessionUser;
}

/** The one error shape every FactoryOps endpoint uses. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string;
  };
}
