CREATE TABLE "consistency_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"checked" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"found" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "wedding_day_prewarm" (
	"couple_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"token_refreshed" boolean DEFAULT false NOT NULL,
	"calendar_verified" boolean,
	"error" text,
	CONSTRAINT "wedding_day_prewarm_couple_id_connection_id_pk" PRIMARY KEY("couple_id","connection_id")
);
--> statement-breakpoint
ALTER TABLE "wedding_day_prewarm" ADD CONSTRAINT "wedding_day_prewarm_couple_id_couples_id_fk" FOREIGN KEY ("couple_id") REFERENCES "public"."couples"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wedding_day_prewarm" ADD CONSTRAINT "wedding_day_prewarm_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consistency_runs_started_idx" ON "consistency_runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "core_fields_wedding_date_idx" ON "core_fields" USING btree (("fields"->>'weddingDate'));