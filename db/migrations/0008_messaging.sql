CREATE TABLE "message_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_id" uuid NOT NULL,
	"attempt_no" integer NOT NULL,
	"provider" text NOT NULL,
	"status" text DEFAULT 'sending' NOT NULL,
	"request_key" text NOT NULL,
	"provider_message_id" text,
	"http_status" integer,
	"error" text,
	"retry_after_ms" integer,
	"worker_id" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "message_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" uuid NOT NULL,
	"attempt_id" uuid,
	"type" text NOT NULL,
	"status" text,
	"provider" text,
	"source" text DEFAULT 'hub' NOT NULL,
	"external_id" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_health" (
	"provider" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"circuit_state" text DEFAULT 'closed' NOT NULL,
	"successes" integer DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_success_at" timestamp with time zone,
	"last_failure_at" timestamp with time zone,
	"last_error" text,
	"opened_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"endpoint" text NOT NULL,
	"p256dh_enc" text NOT NULL,
	"auth_enc" text NOT NULL,
	"user_agent" text,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "recipient_preferences" (
	"recipient" text PRIMARY KEY NOT NULL,
	"user_id" uuid,
	"channels" text[] DEFAULT '{email,sms,push}'::text[] NOT NULL,
	"muted_kinds" text[] DEFAULT '{}'::text[] NOT NULL,
	"quiet_start" text,
	"quiet_end" text,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recipient_preferences_quiet_format" CHECK ((quiet_start is null or quiet_start ~ '^[0-2][0-9]:[0-5][0-9]$') and (quiet_end is null or quiet_end ~ '^[0-2][0-9]:[0-5][0-9]$'))
);
--> statement-breakpoint
CREATE TABLE "sms_opt_outs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"phone" text NOT NULL,
	"keyword" text NOT NULL,
	"action" text NOT NULL,
	"source_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"address" text NOT NULL,
	"reason" text NOT NULL,
	"provider" text,
	"message_id" uuid,
	"source_event_id" bigint,
	"detail" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lifted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "request_key" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "status_reason" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "provider_message_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "attempt_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "critical" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "not_before" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "message_attempts" ADD CONSTRAINT "message_attempts_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_attempt_id_message_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."message_attempts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "push_subscriptions" ADD CONSTRAINT "push_subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipient_preferences" ADD CONSTRAINT "recipient_preferences_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_source_event_id_message_events_id_fk" FOREIGN KEY ("source_event_id") REFERENCES "public"."message_events"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "message_attempts_message_no" ON "message_attempts" USING btree ("message_id","attempt_no");--> statement-breakpoint
CREATE INDEX "message_attempts_provider_message_idx" ON "message_attempts" USING btree ("provider","provider_message_id");--> statement-breakpoint
CREATE INDEX "message_attempts_started_idx" ON "message_attempts" USING btree ("provider","started_at");--> statement-breakpoint
CREATE INDEX "message_events_message_idx" ON "message_events" USING btree ("message_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "message_events_provider_external" ON "message_events" USING btree ("provider","external_id") WHERE external_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "push_subscriptions_endpoint" ON "push_subscriptions" USING btree ("endpoint");--> statement-breakpoint
CREATE INDEX "push_subscriptions_user_idx" ON "push_subscriptions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "recipient_preferences_user_idx" ON "recipient_preferences" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_opt_outs_source" ON "sms_opt_outs" USING btree ("source_id");--> statement-breakpoint
CREATE INDEX "sms_opt_outs_phone_idx" ON "sms_opt_outs" USING btree ("phone","id");--> statement-breakpoint
CREATE UNIQUE INDEX "suppressions_active_address" ON "suppressions" USING btree ("channel","address") WHERE lifted_at is null;--> statement-breakpoint
CREATE INDEX "messages_request_key_idx" ON "messages" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "messages_created_idx" ON "messages" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "messages_status_idx" ON "messages" USING btree ("status","channel");--> statement-breakpoint
CREATE INDEX "messages_provider_message_idx" ON "messages" USING btree ("provider","provider_message_id");--> statement-breakpoint
CREATE INDEX "messages_couple_idx" ON "messages" USING btree ("couple_id");--> statement-breakpoint
CREATE INDEX "messages_supplier_idx" ON "messages" USING btree ("supplier_id");