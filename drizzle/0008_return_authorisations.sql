CREATE TYPE "public"."return_authorisation_status" AS ENUM('OPEN', 'RECEIVED');--> statement-breakpoint
CREATE TABLE "return_authorisations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"lines" jsonb NOT NULL,
	"status" "return_authorisation_status" DEFAULT 'OPEN' NOT NULL,
	"return_id" uuid,
	"actor" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "return_authorisations" ADD CONSTRAINT "return_authorisations_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "return_authorisations" ADD CONSTRAINT "return_authorisations_return_id_returns_id_fk" FOREIGN KEY ("return_id") REFERENCES "public"."returns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "return_authorisations_order_idx" ON "return_authorisations" USING btree ("order_id");