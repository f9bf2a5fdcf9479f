ALTER TABLE "backtest_past_signals" DROP COLUMN "asset";--> statement-breakpoint
ALTER TABLE "backtest_past_signals" DROP COLUMN "strategy_name";--> statement-breakpoint
ALTER TABLE "backtest_past_signals" DROP COLUMN "signal_type";