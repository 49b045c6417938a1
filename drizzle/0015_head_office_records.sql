-- Hand-written: trigram indexes for customers(search:) need pg_trgm (shipped with PostgreSQL's contrib, and with embedded-postgres).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
-- Hand-written backfill: phones become E.164 (the app normalises with libphonenumber-js, default region US). A number
-- written with + keeps its digits; 10 digits are a US number; 11 digits starting with 1 too; anything else is left as
-- entered. Customers sharing a number make the unique index below fail, naming the number: resolve them first.
UPDATE "customers" SET "phone" = CASE
    WHEN btrim("phone") LIKE '+%' THEN '+' || regexp_replace("phone", '\D', '', 'g')
    WHEN regexp_replace("phone", '\D', '', 'g') ~ '^[0-9]{10}$' THEN '+1' || regexp_replace("phone", '\D', '', 'g')
    WHEN regexp_replace("phone", '\D', '', 'g') ~ '^1[0-9]{10}$' THEN '+' || regexp_replace("phone", '\D', '', 'g')
    ELSE "phone" END
  WHERE "phone" IS NOT NULL;
--> statement-breakpoint
CREATE TABLE "staff_sign_in_failures" (
	"terminal_id" uuid NOT NULL,
	"staff_code" text NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp (3) with time zone,
	CONSTRAINT "staff_sign_in_failures_terminal_id_staff_code_pk" PRIMARY KEY("terminal_id","staff_code"),
	CONSTRAINT "failed_attempts_non_negative" CHECK ("staff_sign_in_failures"."failed_attempts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "audit_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject_id" text,
	"before" jsonb,
	"after" jsonb
);
--> statement-breakpoint
ALTER TABLE "customers" DROP CONSTRAINT "customer_has_contact";--> statement-breakpoint
ALTER TABLE "staff_members" DROP CONSTRAINT "failed_attempts_non_negative";--> statement-breakpoint
DROP INDEX "customers_phone_digits_idx";--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "erased_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "staff_sign_in_failures" ADD CONSTRAINT "staff_sign_in_failures_terminal_id_terminals_id_fk" FOREIGN KEY ("terminal_id") REFERENCES "public"."terminals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "staff_sign_in_failures_code_idx" ON "staff_sign_in_failures" USING btree ("staff_code");--> statement-breakpoint
CREATE INDEX "audit_entries_subject_idx" ON "audit_entries" USING btree ("subject_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_phone_idx" ON "customers" USING btree ("phone");--> statement-breakpoint
CREATE INDEX "customers_name_trgm_idx" ON "customers" USING gin (lower("name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "customers_email_trgm_idx" ON "customers" USING gin (lower("email") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "customers_phone_trgm_idx" ON "customers" USING gin ("phone" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "customers_name_idx" ON "customers" USING btree ("name","id");--> statement-breakpoint
CREATE INDEX "loyalty_accounts_number_trgm_idx" ON "loyalty_accounts" USING gin ("number" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "orders_location_idx" ON "orders" USING btree ("location_id","id");--> statement-breakpoint
CREATE INDEX "returns_location_idx" ON "returns" USING btree ("location_id","id");--> statement-breakpoint
ALTER TABLE "customers" DROP COLUMN "phone_digits";--> statement-breakpoint
ALTER TABLE "staff_members" DROP COLUMN "failed_attempts";--> statement-breakpoint
ALTER TABLE "staff_members" DROP COLUMN "locked_until";--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customer_has_contact" CHECK ("customers"."email" is not null or "customers"."phone" is not null or "customers"."erased_at" is not null);
--> statement-breakpoint
-- Hand-written: the audit log is append-only, like the ledgers (refuse_change() from 0001).
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
