CREATE TYPE "public"."cash_movement_kind" AS ENUM('OPENING_FLOAT', 'CASH_SALE', 'CASH_REFUND', 'CHANGE_GIVEN', 'PAID_IN', 'PAID_OUT', 'DROP');--> statement-breakpoint
CREATE TYPE "public"."gift_card_entry_kind" AS ENUM('ISSUE', 'REDEEM', 'REFUND');--> statement-breakpoint
CREATE TYPE "public"."register_session_status" AS ENUM('OPEN', 'CLOSED');--> statement-breakpoint
ALTER TYPE "public"."stock_movement_kind" ADD VALUE 'DISCREPANCY';--> statement-breakpoint
ALTER TYPE "public"."tender_type" ADD VALUE 'GIFT_CARD';--> statement-breakpoint
CREATE TABLE "cash_movements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"kind" "cash_movement_kind" NOT NULL,
	"delta" bigint NOT NULL,
	"order_id" uuid,
	"reason" text,
	"actor" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gift_card_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"gift_card_id" uuid NOT NULL,
	"kind" "gift_card_entry_kind" NOT NULL,
	"amount" bigint NOT NULL,
	"order_id" uuid,
	"actor" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gift_cards" (
	"id" uuid PRIMARY KEY NOT NULL,
	"code_hash" text NOT NULL,
	"last4" text NOT NULL,
	"currency_code" text NOT NULL,
	"balance" bigint NOT NULL,
	"issued_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"order_id" uuid,
	"actor" text NOT NULL,
	CONSTRAINT "gift_cards_codeHash_unique" UNIQUE("code_hash"),
	CONSTRAINT "gift_card_balance_non_negative" CHECK ("gift_cards"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "register_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"terminal_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"status" "register_session_status" DEFAULT 'OPEN' NOT NULL,
	"opening_float" bigint NOT NULL,
	"expected_cash" bigint NOT NULL,
	"opened_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"opened_by" uuid NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"closed_by" uuid,
	"counted_cash" bigint,
	"variance" bigint,
	CONSTRAINT "register_expected_cash_non_negative" CHECK ("register_sessions"."expected_cash" >= 0),
	CONSTRAINT "register_amounts_non_negative" CHECK ("register_sessions"."opening_float" >= 0 and ("register_sessions"."counted_cash" is null or "register_sessions"."counted_cash" >= 0))
);
--> statement-breakpoint
CREATE TABLE "tax_rates" (
	"region" text NOT NULL,
	"tax_class" text NOT NULL,
	"rate" numeric(7, 4) NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tax_rates_region_tax_class_pk" PRIMARY KEY("region","tax_class"),
	CONSTRAINT "tax_rate_range" CHECK ("tax_rates"."rate" >= 0 and "tax_rates"."rate" < 100)
);
--> statement-breakpoint
ALTER TABLE "locations" ADD COLUMN "tax_region" text;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "tax_class" text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE "order_lines" ADD COLUMN "tax" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "order_lines" ADD COLUMN "tax_rate" numeric(7, 4) DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "sales_associate_id" uuid;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "client_sale_id" text;--> statement-breakpoint
ALTER TABLE "tenders" ADD COLUMN "change" bigint;--> statement-breakpoint
ALTER TABLE "tenders" ADD COLUMN "gift_card_id" uuid;--> statement-breakpoint
ALTER TABLE "return_lines" ADD COLUMN "tax" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cash_movements" ADD CONSTRAINT "cash_movements_session_id_register_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."register_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gift_card_entries" ADD CONSTRAINT "gift_card_entries_gift_card_id_gift_cards_id_fk" FOREIGN KEY ("gift_card_id") REFERENCES "public"."gift_cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "register_sessions" ADD CONSTRAINT "register_sessions_terminal_id_terminals_id_fk" FOREIGN KEY ("terminal_id") REFERENCES "public"."terminals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "register_sessions" ADD CONSTRAINT "register_sessions_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "register_sessions" ADD CONSTRAINT "register_sessions_opened_by_staff_members_id_fk" FOREIGN KEY ("opened_by") REFERENCES "public"."staff_members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "register_sessions" ADD CONSTRAINT "register_sessions_closed_by_staff_members_id_fk" FOREIGN KEY ("closed_by") REFERENCES "public"."staff_members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cash_movements_session_idx" ON "cash_movements" USING btree ("session_id","id");--> statement-breakpoint
CREATE INDEX "gift_card_entries_card_idx" ON "gift_card_entries" USING btree ("gift_card_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "register_sessions_one_open_idx" ON "register_sessions" USING btree ("terminal_id") WHERE "register_sessions"."status" = 'OPEN';--> statement-breakpoint
CREATE INDEX "register_sessions_location_idx" ON "register_sessions" USING btree ("location_id","opened_at");--> statement-breakpoint
CREATE INDEX "order_events_stock_conflict_idx" ON "order_events" USING btree ("fulfilment_id") WHERE "order_events"."kind" = 'STOCK_CONFLICT';--> statement-breakpoint
CREATE UNIQUE INDEX "orders_client_sale_idx" ON "orders" USING btree ("location_id","client_sale_id");--> statement-breakpoint
CREATE INDEX "orders_associate_idx" ON "orders" USING btree ("sales_associate_id","created_at");--> statement-breakpoint
CREATE TRIGGER cash_movements_append_only BEFORE UPDATE OR DELETE ON cash_movements FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER cash_movements_no_truncate BEFORE TRUNCATE ON cash_movements FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER gift_card_entries_append_only BEFORE UPDATE OR DELETE ON gift_card_entries FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER gift_card_entries_no_truncate BEFORE TRUNCATE ON gift_card_entries FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
