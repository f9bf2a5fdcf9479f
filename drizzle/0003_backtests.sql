CREATE TABLE "backtest_equity" (
	"backtest_id" text NOT NULL,
	"time" bigint NOT NULL,
	"equity" double precision NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backtest_trades" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"backtest_id" text NOT NULL,
	"seq" integer NOT NULL,
	"asset" text NOT NULL,
	"direction" text NOT NULL,
	"entry_time" bigint NOT NULL,
	"entry_price" double precision NOT NULL,
	"exit_time" bigint,
	"exit_price" double precision,
	"quantity" double precision NOT NULL,
	"fees" double precision NOT NULL,
	"gross_pnl" double precision NOT NULL,
	"pnl" double precision NOT NULL,
	"return_pct" double precision NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "backtest_id" text NOT NULL;--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "assets" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "parameters" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "conventions" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "metrics" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "buy_and_hold_return" double precision;--> statement-breakpoint
ALTER TABLE "backtest_results" ADD COLUMN "exposure_time" double precision NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "backtest_equity_backtest_time_key" ON "backtest_equity" USING btree ("backtest_id","time");--> statement-breakpoint
CREATE UNIQUE INDEX "backtest_trades_backtest_seq_key" ON "backtest_trades" USING btree ("backtest_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "backtest_results_backtest_id_key" ON "backtest_results" USING btree ("backtest_id");