CREATE TABLE "fills" (
	"id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"portfolio_id" text NOT NULL,
	"asset" text NOT NULL,
	"side" text NOT NULL,
	"quantity" double precision NOT NULL,
	"price" double precision NOT NULL,
	"reference_price" double precision NOT NULL,
	"slippage" double precision NOT NULL,
	"fee" double precision NOT NULL,
	"realized_pnl" double precision,
	"applied" boolean DEFAULT false NOT NULL,
	"timestamp" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" text PRIMARY KEY NOT NULL,
	"portfolio_id" text NOT NULL,
	"signal_id" text,
	"asset" text NOT NULL,
	"side" text NOT NULL,
	"notional" double precision NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "portfolio_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"portfolio_id" text NOT NULL,
	"timestamp" bigint NOT NULL,
	"cash" double precision NOT NULL,
	"positions_value" double precision NOT NULL,
	"equity" double precision NOT NULL,
	"drawdown" double precision NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "portfolios" (
	"id" text PRIMARY KEY NOT NULL,
	"initial_capital" double precision NOT NULL,
	"cash" double precision NOT NULL,
	"reserved_cash" double precision DEFAULT 0 NOT NULL,
	"realized_pnl" double precision DEFAULT 0 NOT NULL,
	"fees_paid" double precision DEFAULT 0 NOT NULL,
	"peak_equity" double precision NOT NULL,
	"pnl_day" date NOT NULL,
	"day_start_equity" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "positions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"portfolio_id" text NOT NULL,
	"asset" text NOT NULL,
	"quantity" double precision NOT NULL,
	"average_price" double precision NOT NULL,
	"realized_pnl" double precision DEFAULT 0 NOT NULL,
	"stop_loss" double precision,
	"take_profit" double precision,
	"protection_checked_until" bigint,
	"cooldown_until" bigint,
	"opened_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risk_assessments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"signal_id" text NOT NULL,
	"portfolio_id" text NOT NULL,
	"asset" text NOT NULL,
	"approved" boolean NOT NULL,
	"risk_level" text NOT NULL,
	"assessment" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portfolio_snapshots" ADD CONSTRAINT "portfolio_snapshots_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_portfolio_id_portfolios_id_fk" FOREIGN KEY ("portfolio_id") REFERENCES "public"."portfolios"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "fills_order_key" ON "fills" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "portfolio_snapshots_portfolio_timestamp_idx" ON "portfolio_snapshots" USING btree ("portfolio_id","timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "positions_portfolio_asset_key" ON "positions" USING btree ("portfolio_id","asset");--> statement-breakpoint
CREATE UNIQUE INDEX "risk_assessments_signal_portfolio_key" ON "risk_assessments" USING btree ("signal_id","portfolio_id");