// The API: the same routes as the deployed HTTP API (plus the local stack's /local/ routes), JSON
// in and out, errors as ApiError with the server's status, code and message.

export class ApiError extends Error {
  constructor(status, body) {
    const err = body && body.error;
    super((err && err.message) || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = err ? err.code : null;
  }
}

/** One request as `who` (an object with a `token`, or null); a FormData body goes as multipart. */
export async function api(who, method, path, body, extraHeaders) {
  const headers = { ...(extraHeaders || {}) };
  if (who && who.token) headers.authorization = `Bearer ${who.token}`;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const resp = await fetch(path, { method, headers, body: payload });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

/** A GET whose 404 means "nothing there": null instead of an error. */
export async function getOrNull(who, path) {
  try {
    return await api(who, "GET", path);
  } catch (e) {
    if (e.status !== 404) throw e;
    return null;
  }
}

/** A token for one of the seeded demo identities (local stack only). */
export async function login(sub) {
  const r = await api(null, "POST", "/local/login", { sub });
  return r.token;
}
