ALTER TABLE "collection_runs" ADD COLUMN "attempts_today" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "collection_runs" ADD COLUMN "failures_today" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "collection_runs" ADD COLUMN "unhealthy_since" timestamp with time zone;