// Assembles one hub process: database (embedded or external), migrations,
// the sandbox world, workers, and the web server (Express + Remix + Socket.IO).
// `role` picks the halves: "all" (default), "web" or "worker".
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import express from "express";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import type { Server as IoServer } from "socket.io";
import type { HubConfig, Role } from "../config.server";
import { openDatabase, type Database } from "../db.server";
import { createLogger, type Logger } from "../log.server";
import { createVault } from "../crypto/secrets.server";
import { createHubCookies } from "../auth/cookies.server";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./embedded-postgres.server";
import { migrateDatabase } from "./migrate.server";
import { startWorkerRunner, type WorkerHandle } from "./worker.server";
import type { HubContext } from "./context.server";
import { createHealthRouter } from "../http/health.server";
import { createApiRouter } from "../http/api.server";
import { requestLog } from "../http/request-log.server";
import { httpMetrics, remixRouteMatcher } from "../ops/metrics.server";
import { createMetricsRouter } from "../ops/http.server";
import { startOps, type OpsRuntime } from "../ops/runtime.server";
import { createInboundWebhookRouter } from "../webhooks/inbound/http.server";
import { attachRealtime } from "../realtime/gateway.server";
import { seedSandbox, type SandboxCredentials } from "../seed/demo-world.server";
import { startSandboxSimulators } from "../../simulators/index";
import { importMappingFiles } from "../mapping/store.server";
import { readMappingFiles } from "../mapping/files.server";
import { systemActor } from "../audit/audit.server";
import type { RunningSimulator } from "../../simulators/harness";

export interface RunningHub {
  ctx: HubContext;
  /** Base URL of the web server, when this process serves HTTP. */
  url: string | null;
  io: IoServer | null;
  sandboxCredentials: SandboxCredentials | null;
  /** Metric snapshots, the KPI ticker (when elected) and the ops relay. */
  ops: OpsRuntime;
  stop(): Promise<void>;
}

export interface StartOptions {
  config: HubConfig;
  role?: Role;
  logger?: Logger;
  /** Path of the Remix server build (default: build/index.js under the working directory). */
  buildPath?: string;
}

export async function startHub(opts: StartOptions): Promise<RunningHub> {
  const { config } = opts;
  const role = opts.role ?? "all";
  const log = opts.logger ?? createLogger(config.logLevel);
  // Shutdown runs these in reverse: web first, then workers, pools, and the embedded database last.
  const cleanups: { name: string; fn: () => Promise<void> }[] = [];
  const onStop = (name: string, fn: () => Promise<void>) => cleanups.push({ name, fn });
  const stopAll = async () => {
    for (const { name, fn } of cleanups.reverse()) {
      try {
        await fn();
        log.info({ step: name }, "stopped");
      } catch (err) {
        log.error({ err, step: name }, "shutdown step failed");
      }
    }
    cleanups.length = 0;
  };

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPgPort,
        log: (line) => log.debug({ component: "embedded-postgres" }, line),
      });
      onStop("embedded PostgreSQL", () => embedded.stop());
      databaseUrl = embedded.url;
      log.info({ port: config.embeddedPgPort, dataDir: config.dataDir }, "embedded PostgreSQL started");
    }

    const database: Database = openDatabase(databaseUrl);
    onStop("database pool", () => database.close());
    await migrateDatabase(database, databaseUrl);

    let runner: WorkerHandle | null = null;
    let listeningUrl: string | null = null;
    const startedAt = new Date();
    const ctx: HubContext = {
      config,
      role,
      instanceId: `${os.hostname()}:${process.pid}:${role}`,
      db: database.db,
      database,
      databaseUrl,
      log,
      vault: createVault(config.encryptionKeys),
      cookies: createHubCookies(config.sessionSecret, config.secureCookies),
      status: () => ({ workersRunning: runner !== null, startedAt }),
      publicUrl: () => config.publicUrl ?? listeningUrl ?? `http://localhost:${config.port}`,
    };

    let sandboxCredentials: SandboxCredentials | null = null;
    if (config.seedSandbox && role !== "worker") {
      sandboxCredentials = await seedSandbox(ctx);
    }
    if (config.mode === "sandbox" && role !== "worker") {
      // The reviewed mappings in mappings/ become (or stay) the published versions.
      const counts = await importMappingFiles(ctx.db, readMappingFiles(), systemActor("mappings/ import"));
      log.info(counts, "mapping files imported");
    }

    if (role !== "web") {
      const r = await startWorkerRunner(ctx);
      runner = r;
      onStop("workers", async () => {
        runner = null;
        await r.stop();
      });
      log.info({ concurrency: config.workerConcurrency }, "workers started");
    }

    let url: string | null = null;
    let io: IoServer | null = null;
    if (role !== "worker") {
      if (config.simulators) {
        const sims: RunningSimulator[] = await startSandboxSimulators(config.simulatorBasePort);
        onStop("simulators", async () => {
          await Promise.all(sims.map((s) => s.close()));
        });
      }
      const web = await startWeb(ctx, opts.buildPath);
      io = web.io;
      url = web.url;
      listeningUrl = web.url;
      onStop("web server", web.stop);
      log.info({ url }, "web server listening");
    }

    // Stopped first: its last act removes this process's snapshots (it is no longer live).
    const ops = await startOps(ctx, { io: io ?? undefined });
    onStop("ops", ops.stop);

    return { ctx, url, io, sandboxCredentials, ops, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startWeb(ctx: HubContext, buildPath?: string): Promise<{ url: string; io: IoServer; stop: () => Promise<void> }> {
  const build = (await import(pathToFileURL(buildPath ?? path.resolve("build/index.js")).href)) as ServerBuild;
  const app = express();
  app.disable("x-powered-by");
  app.use(requestLog(ctx.log));
  app.use(httpMetrics(remixRouteMatcher(build.routes)));
  app.use(createHealthRouter(ctx));
  app.use(createMetricsRouter(ctx));
  // Raw bytes for signature checks: mounted before any JSON parser.
  app.use(createInboundWebhookRouter(ctx));
  app.use("/api/v1", createApiRouter(ctx));

  // Fingerprinted assets never change; everything else in public/ briefly cached.
  app.use("/build", express.static(path.resolve("public/build"), { immutable: true, maxAge: "1y" }));
  app.use(express.static(path.resolve("public"), { maxAge: "1h" }));
  app.all(
    "*",
    createRequestHandler({
      build,
      mode: ctx.config.mode === "production" ? "production" : "development",
      getLoadContext: (req, res) => ({ hub: ctx, clientIp: req.ip ?? "unknown", requestId: String(res.locals.requestId ?? "") }),
    }),
  );

  const server = http.createServer(app);
  const realtime = await attachRealtime(server, ctx);
  const io = realtime.io;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(ctx.config.port, ctx.config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : ctx.config.port;
  const host = ctx.config.host === "0.0.0.0" || ctx.config.host === "::" ? "localhost" : ctx.config.host;

  return {
    url: `http://${host}:${port}`,
    io,
    stop: async () => {
      // Stop accepting, let in-flight requests finish (bounded), then cut the rest.
      // io.close() disconnects sockets and closes the http.Server; its callback fires once closed.
      const timer = setTimeout(() => server.closeAllConnections(), 5000);
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        server.closeIdleConnections();
      });
      clearTimeout(timer);
      await realtime.stop();
    },
  };
}
