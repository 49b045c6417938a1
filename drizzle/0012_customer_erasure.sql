ALTER TABLE "customers" DROP CONSTRAINT "customer_has_contact";--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "erased_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customer_has_contact" CHECK ("customers"."email" is not null or "customers"."phone" is not null or "customers"."erased_at" is not null);