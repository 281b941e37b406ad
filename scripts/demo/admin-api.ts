/** A small client for the admin API (`/api`, bearer token) and the health routes. */

export class DemoError extends Error {}

export interface AdminApi {
  get<T>(path: string): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

async function answerOf(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the message.
  }
  if (response.ok) return body;
  if (response.status === 401) {
    throw new DemoError('The admin token was refused (401). Use the token Momentum printed on its first start, or make one with `npm run momentum -- token create --name demo`.');
  }
  const message = (body as { error?: { message?: string } })?.error?.message ?? text.slice(0, 300);
  throw new DemoError(`${what} answered ${response.status}: ${message}`);
}

export function adminApi(baseUrl: string, token: string): AdminApi {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return answerOf(response, `${method} /api${path}`);
  };
  return {
    get: async <T>(path: string) => (await call('GET', path)) as T,
    put: async <T>(path: string, body: unknown) => (await call('PUT', path, body)) as T,
  };
}

/** Fails with a plain message when the service is not running, not ready, or refuses the token. */
export async function checkService(baseUrl: string, api: AdminApi): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/readyz`);
  } catch {
    throw new DemoError(`Momentum is not answering at ${baseUrl}. Start it first (\`npm start\` in another terminal), or pass --url.`);
  }
  if (response.status !== 200) {
    const body = await response.text();
    throw new DemoError(`Momentum at ${baseUrl} is not ready (${response.status}): ${body.slice(0, 300)}`);
  }
  await api.get('/workspaces?limit=1');
}
