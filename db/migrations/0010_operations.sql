CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kpi" text NOT NULL,
	"status" text NOT NULL,
	"message" text NOT NULL,
	"threshold" double precision,
	"last_value" double precision,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" uuid,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "consistency_findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"invariant" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "kpi_samples" (
	"kpi" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"value" double precision,
	"state" text NOT NULL,
	CONSTRAINT "kpi_samples_kpi_at_pk" PRIMARY KEY("kpi","at")
);
--> statement-breakpoint
CREATE TABLE "metric_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"process_id" text NOT NULL,
	"role" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"metrics" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_acknowledged_by_users_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_events_alert_idx" ON "alert_events" USING btree ("alert_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_live_per_kpi" ON "alerts" USING btree ("kpi") WHERE status in ('open', 'acknowledged');--> statement-breakpoint
CREATE UNIQUE INDEX "consistency_findings_open_item" ON "consistency_findings" USING btree ("invariant","entity_type","entity_id") WHERE resolved_at is null;--> statement-breakpoint
CREATE INDEX "metric_snapshots_process_at" ON "metric_snapshots" USING btree ("process_id","at");--> statement-breakpoint
CREATE INDEX "metric_snapshots_at" ON "metric_snapshots" USING btree ("at");