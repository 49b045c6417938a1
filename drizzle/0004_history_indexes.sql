DROP INDEX "stock_movements_level_idx";--> statement-breakpoint
DROP INDEX "stock_movements_created_idx";--> statement-breakpoint
DROP INDEX "stock_movements_variant_idx";--> statement-breakpoint
DROP INDEX "orders_customer_idx";--> statement-breakpoint
CREATE INDEX "stock_movements_location_idx" ON "stock_movements" USING btree ("location_id","id");--> statement-breakpoint
CREATE INDEX "stock_movements_variant_idx" ON "stock_movements" USING btree ("variant_id","id");--> statement-breakpoint
CREATE INDEX "orders_customer_idx" ON "orders" USING btree ("customer_id","id");