ALTER TABLE "staff_members" ADD COLUMN "deactivated_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "terminals" ADD COLUMN "revoked_at" timestamp (3) with time zone;