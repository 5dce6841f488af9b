// The consent and error pages of the OAuth simulators: small, dependency-free
// HTML that a person can click through in the sandbox and a test can parse.
import type { OAuthUserConfig } from "./types.js";

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
.banner { font-size: .8rem; color: #8a6d00; background: #fff8c5; padding: .25rem .5rem; border-radius: 4px; }
ul { padding-left: 1.25rem; } code { word-break: break-all; }
button { font-size: 1rem; padding: .5rem 1.25rem; margin-right: .5rem; }
</style>
</head>
<body>
<p class="banner">Simulator: no real account is used.</p>
${body}
</body>
</html>
`;
}

export interface ConsentPageInput {
  providerTitle: string;
  formAction: string;
  interactionId: string;
  appName: string;
  clientId: string;
  scopes: string[];
  users: OAuthUserConfig[];
}

export function consentPage(input: ConsentPageInput): string {
  const scopes = input.scopes.length
    ? `<ul class="scopes">${input.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join("")}</ul>`
    : "<p>No specific scopes requested.</p>";
  const options = input.users
    .map(
      (u, i) =>
        `<option value="${escapeHtml(u.id)}"${i === 0 ? " selected" : ""}>${escapeHtml(u.name)} &lt;${escapeHtml(u.email)}&gt;</option>`,
    )
    .join("");
  return page(
    `Sign in - ${input.providerTitle} (simulator)`,
    `<h1>${escapeHtml(input.providerTitle)}</h1>
<p><strong class="app-name">${escapeHtml(input.appName)}</strong> (client id <code class="client-id">${escapeHtml(input.clientId)}</code>) wants to access your account.</p>
<p>Requested scopes:</p>
${scopes}
<form method="post" action="${escapeHtml(input.formAction)}">
<input type="hidden" name="interaction" value="${escapeHtml(input.interactionId)}">
<p><label>Account <select name="account">${options}</select></label></p>
<p><button type="submit" name="decision" value="allow">Allow</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>`,
  );
}

export function errorPage(providerTitle: string, heading: string, detail: string): string {
  return page(
    `Error - ${providerTitle} (simulator)`,
    `<h1>${escapeHtml(providerTitle)}</h1>
<h2 class="error">${escapeHtml(heading)}</h2>
<p class="error-detail">${escapeHtml(detail)}</p>`,
  );
}
