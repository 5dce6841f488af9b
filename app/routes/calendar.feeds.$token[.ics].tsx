// GET/HEAD /calendar/feeds/<token>.ics: a vendor's private iCal feed (resource
// route, no UI). Calendar apps poll this, so it answers If-None-Match with 304
// and lets private caches keep the text for 5 minutes. Unknown, revoked and
// malformed tokens get the same 404, so the answer reveals nothing about tokens.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { renderFeed } from "~/calendar/feed.server";
import { NotFoundError } from "~/errors";

const NOT_FOUND = "Calendar feed not found. It may have been revoked; create a new feed URL in the hub.\n";

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ is ignored, "*" matches anything. */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const feed = await renderFeed(context.hub, params.token ?? "").catch((err: unknown) => {
    if (err instanceof NotFoundError) return null;
    throw err;
  });
  if (!feed) {
    return new Response(NOT_FOUND, {
      status: 404,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    });
  }
  const headers = new Headers({
    ETag: feed.etag,
    "Cache-Control": "private, max-age=300",
    // The URL is the secret: keep it out of Referer headers of anything the feed links to.
    "Referrer-Policy": "no-referrer",
  });
  if (matches(request.headers.get("If-None-Match"), feed.etag)) return new Response(null, { status: 304, headers });
  headers.set("Content-Type", "text/calendar; charset=utf-8");
  headers.set("Content-Disposition", 'inline; filename="weddings.ics"');
  return new Response(feed.body, { status: 200, headers });
}
