CREATE TABLE "candle_revisions" (
	"asset" text NOT NULL,
	"interval_minutes" integer NOT NULL,
	"day" integer NOT NULL,
	"revision" bigint NOT NULL,
	CONSTRAINT "candle_revisions_asset_interval_minutes_day_pk" PRIMARY KEY("asset","interval_minutes","day")
);
--> statement-breakpoint
CREATE TABLE "macro_revisions" (
	"indicator" text NOT NULL,
	"day" integer NOT NULL,
	"revision" bigint NOT NULL,
	CONSTRAINT "macro_revisions_indicator_day_pk" PRIMARY KEY("indicator","day")
);
--> statement-breakpoint
-- One more revision for each day of candles a statement wrote (an update: for the days before
-- and after it, by two triggers), for every day on a TRUNCATE. Days in key order: concurrent
-- writers take their locks alike.
CREATE FUNCTION bump_candle_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE candle_revisions SET revision = revision + 1;
  ELSE
    INSERT INTO candle_revisions AS r (asset, interval_minutes, day, revision)
    SELECT DISTINCT asset, interval_minutes, floor(timestamp / 86400000.0)::int AS day, 1 FROM changed
    ORDER BY asset, interval_minutes, day
    ON CONFLICT (asset, interval_minutes, day) DO UPDATE SET revision = r.revision + 1;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION bump_macro_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE macro_revisions SET revision = revision + 1;
  ELSE
    INSERT INTO macro_revisions AS r (indicator, day, revision)
    SELECT DISTINCT indicator, date - DATE '1970-01-01' AS day, 1 FROM changed
    ORDER BY indicator, day
    ON CONFLICT (indicator, day) DO UPDATE SET revision = r.revision + 1;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER candle_revisions_on_insert AFTER INSERT ON "crypto_ohlcv" REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_candle_revisions();
--> statement-breakpoint
CREATE TRIGGER candle_revisions_on_update_to AFTER UPDATE ON "crypto_ohlcv" REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_candle_revisions();
--> statement-breakpoint
CREATE TRIGGER candle_revisions_on_update_from AFTER UPDATE ON "crypto_ohlcv" REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_candle_revisions();
--> statement-breakpoint
CREATE TRIGGER candle_revisions_on_delete AFTER DELETE ON "crypto_ohlcv" REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_candle_revisions();
--> statement-breakpoint
CREATE TRIGGER candle_revisions_on_truncate AFTER TRUNCATE ON "crypto_ohlcv"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_candle_revisions();
--> statement-breakpoint
CREATE TRIGGER macro_revisions_on_insert AFTER INSERT ON "macro_indicators" REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_macro_revisions();
--> statement-breakpoint
CREATE TRIGGER macro_revisions_on_update_to AFTER UPDATE ON "macro_indicators" REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_macro_revisions();
--> statement-breakpoint
CREATE TRIGGER macro_revisions_on_update_from AFTER UPDATE ON "macro_indicators" REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_macro_revisions();
--> statement-breakpoint
CREATE TRIGGER macro_revisions_on_delete AFTER DELETE ON "macro_indicators" REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_macro_revisions();
--> statement-breakpoint
CREATE TRIGGER macro_revisions_on_truncate AFTER TRUNCATE ON "macro_indicators"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_macro_revisions();
