// The one client of the pack's routes (all under /intelligent-generation/, through ComfyUI's api.fetchApi, which
// adds the /api prefix and the user header): typed JSON requests, and failures as RouteErrors ready for a toast.
import { api } from "comfyui/api";

export const ROUTES = "/intelligent-generation";
export const RESTART_HINT = "Restart ComfyUI after installing or updating Intelligent Generation.";

/** A failure with what to do about it, ready for a toast. */
export class RouteError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export async function failure(response: Response, what: string, missingHint: string = RESTART_HINT): Promise<RouteError> {
  if (response.status === 404) {
    return new RouteError(`${what}: this ComfyUI has no such route`, missingHint);
  }
  let body: { error?: unknown; hint?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const message = typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
  const hint = typeof body.hint === "string" ? body.hint : "See the ComfyUI console for details.";
  return new RouteError(`${what}: ${message}`, hint);
}

/** `path` below ROUTES; `what` names the action in an error. A 404 means an older pack without the route. */
export async function request<T>(path: string, what: string, init: RequestInit = {}, missingHint?: string): Promise<T> {
  const response = await api.fetchApi(`${ROUTES}${path}`, { cache: "no-store", ...init });
  if (!response.ok) throw await failure(response, what, missingHint);
  return (await response.json()) as T;
}

/** A JSON body, as the pack's changing routes take only. */
export function postJson<T>(path: string, what: string, body: unknown = {}, missingHint?: string): Promise<T> {
  return request<T>(path, what, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) },
    missingHint);
}

/** A model's own path segment: each folder and the file name encoded, the slashes kept. */
export function modelPath(kind: string, name: string): string {
  return `/models/${encodeURIComponent(kind)}/${name.split("/").map(encodeURIComponent).join("/")}`;
}

export const routeURL = (path: string): string => api.apiURL(`${ROUTES}${path}`);
