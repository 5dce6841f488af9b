CREATE TABLE "supplier_feed" (
	"supplier_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"event_id" bigint NOT NULL,
	CONSTRAINT "supplier_feed_supplier_id_seq_pk" PRIMARY KEY("supplier_id","seq")
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "supplier_id" uuid;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "last_feed_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "supplier_feed" ADD CONSTRAINT "supplier_feed_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_feed" ADD CONSTRAINT "supplier_feed_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "supplier_feed_event_idx" ON "supplier_feed" USING btree ("event_id");--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE set null ON UPDATE no action;