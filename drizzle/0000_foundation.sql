CREATE TABLE "alert_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_type" text NOT NULL,
	"asset" text NOT NULL,
	"timestamp" bigint NOT NULL,
	"alert_data" jsonb NOT NULL,
	"file_path" text,
	"distributed_channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backtest_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"strategy_name" text NOT NULL,
	"start_date" text NOT NULL,
	"end_date" text NOT NULL,
	"initial_capital" double precision NOT NULL,
	"final_value" double precision NOT NULL,
	"total_return" double precision NOT NULL,
	"sharpe_ratio" double precision,
	"max_drawdown" double precision,
	"trade_count" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "collection_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tier" text NOT NULL,
	"asset" text NOT NULL,
	"source" text NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"last_error" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_rows_written" integer DEFAULT 0 NOT NULL,
	"calls_day" date,
	"calls_today" integer DEFAULT 0 NOT NULL,
	"total_calls" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "crypto_ohlcv" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"asset" text NOT NULL,
	"interval_minutes" integer NOT NULL,
	"timestamp" bigint NOT NULL,
	"date_str" text NOT NULL,
	"open" double precision NOT NULL,
	"high" double precision NOT NULL,
	"low" double precision NOT NULL,
	"close" double precision NOT NULL,
	"volume" double precision NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "macro_indicators" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"indicator" text NOT NULL,
	"date" date NOT NULL,
	"value" double precision NOT NULL,
	"is_interpolated" boolean DEFAULT false NOT NULL,
	"is_forward_filled" boolean DEFAULT false NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signal_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"asset" text NOT NULL,
	"signal_type" text NOT NULL,
	"timestamp" bigint NOT NULL,
	"price" double precision NOT NULL,
	"strategy_name" text NOT NULL,
	"confidence" double precision NOT NULL,
	"position_size" double precision,
	"stop_loss" double precision,
	"take_profit" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alert_history_asset_timestamp_idx" ON "alert_history" USING btree ("asset","timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "collection_runs_tier_asset_key" ON "collection_runs" USING btree ("tier","asset");--> statement-breakpoint
CREATE UNIQUE INDEX "crypto_ohlcv_asset_interval_timestamp_key" ON "crypto_ohlcv" USING btree ("asset","interval_minutes","timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "macro_indicators_indicator_date_key" ON "macro_indicators" USING btree ("indicator","date");--> statement-breakpoint
CREATE INDEX "signal_history_asset_timestamp_idx" ON "signal_history" USING btree ("asset","timestamp");