-- Running backtests' working state: a retry that finds its past signals gone replays from the start.
DELETE FROM "backtest_past_signals";--> statement-breakpoint
ALTER TABLE "backtest_past_signals" ADD COLUMN "names" text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "backtest_past_signals" ADD COLUMN "codes" "bytea" NOT NULL;