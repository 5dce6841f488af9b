// A cookie-keeping HTTP client that submits console forms the way a browser
// does (with the page's CSRF token), for tests that check status codes.
export class FormClient {
  private cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(readonly baseUrl: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  async get(path: string): Promise<{ status: number; text: string; location: string | null; headers: Headers }> {
    const res = await fetch(this.baseUrl + path, { headers: { cookie: this.cookieHeader() }, redirect: "manual" });
    this.remember(res);
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1]!;
    return { status: res.status, text, location: res.headers.get("location"), headers: res.headers };
  }

  async post(
    path: string,
    fields: Record<string, string>,
    opts: { withCsrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; text: string; location: string | null; headers: Headers }> {
    const body = new URLSearchParams(fields);
    if (opts.withCsrf !== false && this.csrf) body.set("_csrf", this.csrf);
    const res = await fetch(this.baseUrl + path, {
      method: "POST",
      body,
      headers: { cookie: this.cookieHeader(), "content-type": "application/x-www-form-urlencoded", ...opts.headers },
      redirect: "manual",
    });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get("location"), headers: res.headers };
  }

  /** Load the sign-in page (for its CSRF token) and submit it. */
  async signIn(email: string, password: string, headers?: Record<string, string>) {
    await this.get("/login");
    return this.post("/login", { email, password }, { headers });
  }
}
