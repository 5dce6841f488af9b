CREATE TABLE "availability_blocks" (
	"connection_id" uuid NOT NULL,
	"supplier_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"starts_at" text NOT NULL,
	"ends_at" text NOT NULL,
	"all_day" boolean NOT NULL,
	"status" text NOT NULL,
	"summary" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calendar_sync_state" (
	"connection_id" uuid PRIMARY KEY NOT NULL,
	"calendar_id" text NOT NULL,
	"sync_token" text,
	"last_full_sync_at" timestamp with time zone,
	"last_incremental_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "availability_blocks" ADD CONSTRAINT "availability_blocks_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "availability_blocks" ADD CONSTRAINT "availability_blocks_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "calendar_sync_state" ADD CONSTRAINT "calendar_sync_state_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "availability_blocks_connection_external" ON "availability_blocks" USING btree ("connection_id","external_id");--> statement-breakpoint
CREATE INDEX "availability_blocks_supplier_idx" ON "availability_blocks" USING btree ("supplier_id");