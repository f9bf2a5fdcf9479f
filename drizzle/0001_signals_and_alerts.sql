DROP INDEX "signal_history_asset_timestamp_idx";--> statement-breakpoint
ALTER TABLE "alert_history" ALTER COLUMN "alert_data" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "signal_history" ADD COLUMN "analysis" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "signal_history" ADD COLUMN "strategies" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_history_type_asset_timestamp_key" ON "alert_history" USING btree ("alert_type","asset","timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "signal_history_asset_strategy_timestamp_key" ON "signal_history" USING btree ("asset","strategy_name","timestamp");--> statement-breakpoint
CREATE INDEX "signal_history_timestamp_idx" ON "signal_history" USING btree ("timestamp");