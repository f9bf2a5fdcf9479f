CREATE TABLE "latest_prices" (
	"asset" text PRIMARY KEY NOT NULL,
	"price" double precision NOT NULL,
	"time" bigint NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "price_source" text;--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "price_time" bigint;