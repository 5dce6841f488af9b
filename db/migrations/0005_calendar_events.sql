CREATE TABLE "calendar_events" (
	"connection_id" uuid NOT NULL,
	"event_key" text NOT NULL,
	"provider_event_id" text NOT NULL,
	"etag" text,
	"calendar_id" text NOT NULL,
	"payload_hash" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "calendar_events" ADD CONSTRAINT "calendar_events_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "calendar_events_connection_key" ON "calendar_events" USING btree ("connection_id","event_key");