// Socket.IO on the same http.Server as the console and API. Clients
// authenticate in the handshake (console session cookie or API token) and are
// placed only in rooms they may join: staff in `ops`, a vendor in its `supplier:<id>`.
import type http from "node:http";
import { Server } from "socket.io";
import type { HubContext } from "../runtime/context.server";
import { userForSession } from "../auth/sessions.server";
import { authenticateApiToken } from "../auth/api-tokens.server";

export interface SocketIdentity {
  kind: "user" | "api_token";
  id: string;
  staff: boolean;
  supplierId: string | null;
}

export function attachRealtime(server: http.Server, ctx: HubContext): Server {
  const io = new Server(server, { serveClient: false, cors: { origin: false } });

  io.use(async (socket, next) => {
    try {
      const identity = await identify(socket.handshake.headers.cookie, socket.handshake.auth, ctx);
      if (!identity) return next(new Error("unauthorized: sign in to the console or pass auth.token (an API token)"));
      socket.data.identity = identity;
      next();
    } catch (err) {
      ctx.log.error({ err }, "realtime handshake failed");
      next(new Error("unavailable: try again shortly"));
    }
  });

  io.on("connection", (socket) => {
    const identity = socket.data.identity as SocketIdentity;
    if (identity.staff) void socket.join("ops");
    if (identity.supplierId) void socket.join(`supplier:${identity.supplierId}`);
  });

  return io;
}

async function identify(
  cookieHeader: string | undefined,
  auth: Record<string, unknown>,
  ctx: HubContext,
): Promise<SocketIdentity | null> {
  if (typeof auth.token === "string") {
    const p = await authenticateApiToken(ctx.db, auth.token);
    return p ? { kind: "api_token", id: p.tokenId, staff: p.kind === "ops", supplierId: p.supplierId } : null;
  }
  const session: unknown = await ctx.cookies.session.parse(cookieHeader ?? null);
  if (typeof session !== "string") return null;
  const user = await userForSession(ctx.db, session);
  return user ? { kind: "user", id: user.id, staff: user.role !== "vendor", supplierId: user.supplierId } : null;
}
