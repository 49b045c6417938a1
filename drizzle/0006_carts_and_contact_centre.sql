CREATE TYPE "public"."cart_status" AS ENUM('ACTIVE', 'CHECKED_OUT', 'MERGED');--> statement-breakpoint
ALTER TYPE "public"."channel" ADD VALUE 'CONTACT_CENTRE';--> statement-breakpoint
ALTER TYPE "public"."location_type" ADD VALUE 'CONTACT_CENTRE';--> statement-breakpoint
ALTER TYPE "public"."staff_role" ADD VALUE 'AGENT';--> statement-breakpoint
CREATE TABLE "customer_contacts" (
	"staff_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_contacts_staff_id_customer_id_pk" PRIMARY KEY("staff_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "cart_hold_lines" (
	"cart_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"variant_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	CONSTRAINT "cart_hold_lines_cart_id_location_id_variant_id_pk" PRIMARY KEY("cart_id","location_id","variant_id"),
	CONSTRAINT "cart_hold_quantity_positive" CHECK ("cart_hold_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "cart_lines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"cart_id" uuid NOT NULL,
	"variant_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"fulfilment_type" "fulfilment_type",
	"pickup_location_id" uuid,
	"address" jsonb,
	"fulfilment_key" text DEFAULT '' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cart_line_quantity_positive" CHECK ("cart_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "carts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"customer_id" uuid,
	"token_hash" text,
	"status" "cart_status" DEFAULT 'ACTIVE' NOT NULL,
	"started_channel" "channel" NOT NULL,
	"channel" "channel" NOT NULL,
	"fulfilment_type" "fulfilment_type",
	"pickup_location_id" uuid,
	"address" jsonb,
	"discount_codes" text[] DEFAULT '{}'::text[] NOT NULL,
	"hold_location_id" uuid,
	"hold_expires_at" timestamp (3) with time zone,
	"order_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "carts_tokenHash_unique" UNIQUE("token_hash"),
	CONSTRAINT "cart_hold_both_or_neither" CHECK (("carts"."hold_location_id" is null) = ("carts"."hold_expires_at" is null))
);
--> statement-breakpoint
ALTER TABLE "locations" ADD COLUMN "max_cart_hold_minutes" integer DEFAULT 1440 NOT NULL;--> statement-breakpoint
ALTER TABLE "customer_contacts" ADD CONSTRAINT "customer_contacts_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cart_hold_lines" ADD CONSTRAINT "cart_hold_lines_cart_id_carts_id_fk" FOREIGN KEY ("cart_id") REFERENCES "public"."carts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cart_hold_lines" ADD CONSTRAINT "cart_hold_lines_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cart_hold_lines" ADD CONSTRAINT "cart_hold_lines_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cart_lines" ADD CONSTRAINT "cart_lines_cart_id_carts_id_fk" FOREIGN KEY ("cart_id") REFERENCES "public"."carts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cart_lines" ADD CONSTRAINT "cart_lines_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cart_lines" ADD CONSTRAINT "cart_lines_pickup_location_id_locations_id_fk" FOREIGN KEY ("pickup_location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "carts" ADD CONSTRAINT "carts_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "carts" ADD CONSTRAINT "carts_pickup_location_id_locations_id_fk" FOREIGN KEY ("pickup_location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "carts" ADD CONSTRAINT "carts_hold_location_id_locations_id_fk" FOREIGN KEY ("hold_location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cart_lines_variant_fulfilment_idx" ON "cart_lines" USING btree ("cart_id","variant_id","fulfilment_key");--> statement-breakpoint
CREATE UNIQUE INDEX "carts_one_active_per_customer_idx" ON "carts" USING btree ("customer_id") WHERE "carts"."status" = 'ACTIVE' and "carts"."customer_id" is not null;--> statement-breakpoint
CREATE INDEX "carts_anonymous_idle_idx" ON "carts" USING btree ("updated_at") WHERE "carts"."status" = 'ACTIVE' and "carts"."customer_id" is null;--> statement-breakpoint
CREATE INDEX "carts_hold_expiry_idx" ON "carts" USING btree ("hold_expires_at") WHERE "carts"."hold_expires_at" is not null;--> statement-breakpoint
ALTER TABLE "locations" ADD CONSTRAINT "max_cart_hold_minutes_positive" CHECK ("locations"."max_cart_hold_minutes" > 0);