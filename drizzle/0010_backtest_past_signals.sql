CREATE TABLE "backtest_past_signals" (
	"backtest_id" text NOT NULL,
	"first_seq" integer NOT NULL,
	"timestamp" bigint[] NOT NULL,
	"price" double precision[] NOT NULL,
	"asset" text[] NOT NULL,
	"strategy_name" text[] NOT NULL,
	"signal_type" text[] NOT NULL,
	CONSTRAINT "backtest_past_signals_backtest_id_first_seq_pk" PRIMARY KEY("backtest_id","first_seq")
);
